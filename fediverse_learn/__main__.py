"""`python -m fediverse_learn` runs the command-line interface."""

import sys

from fediverse_learn.cli import main

sys.exit(main())
