"""``python -m alsstats`` runs the command-line interface."""

import sys

from alsstats.cli import main

sys.exit(main())
