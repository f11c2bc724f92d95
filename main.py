"""Launch EfficientNet Studio: ``python main.py [IMAGES_OR_FOLDERS...] [--screenshot FILE --page PAGE]``."""

import sys

from app import main

if __name__ == "__main__":
    sys.exit(main())
