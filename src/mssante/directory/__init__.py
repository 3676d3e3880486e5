"""The national directory (Annuaire Santé): find MSSanté addresses online (FHIR) or offline (the bulk extraction)."""

__all__: list[str] = []
