"""Torch-free records and rules shared by every layer: errors, events, the B0-B7 table and its preprocessing, atomic writes. The UI may import this package freely; it never imports torch."""
