"""The pytest plugin of ``mssante[testing]``: fixtures for a vendor's own test suite (loaded by pytest)."""
