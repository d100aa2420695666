"""``python -m byzref`` runs the command-line interface."""

from byzref.cli import main

raise SystemExit(main())
