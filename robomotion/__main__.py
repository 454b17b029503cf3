"""``python -m robomotion`` runs the command line."""

import sys

from robomotion.cli.main import main

sys.exit(main())
