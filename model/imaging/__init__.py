"""Turning untrusted image files into model-ready tensors: safe decoding with size limits, eval transforms, the vectorised resize and shared pixels."""
