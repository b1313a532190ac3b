"""`python -m codegen` runs the command-line interface."""

from codegen.cli import main

raise SystemExit(main())
