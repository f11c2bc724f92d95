"""What the app needs from the desktop and the Python runtime: garbage-collection policy, the PySide6 refcount guard, the desktop entry, the screenshot mode and resource paths."""
