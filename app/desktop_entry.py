"""``python -m app.desktop_entry install|uninstall``: the documented command, kept where users learnt it.

The code lives in ``app.platform.desktop_entry``; this module only runs it.
"""

import sys

from app.platform.desktop_entry import main

if __name__ == "__main__":
    sys.exit(main())
