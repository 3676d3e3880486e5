"""``python -m mssante``: the command line."""

from mssante.cli import main

raise SystemExit(main())
