"""``python -m model …``: the command-line face of the backend."""

import sys

from model.cli import main

sys.exit(main())
