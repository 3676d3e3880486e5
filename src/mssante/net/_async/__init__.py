"""The async source of the I/O shells: :mod:`mssante.net._sync` is generated from it by ``scripts/unasync``."""
