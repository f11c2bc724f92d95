"""The Classify page: drop images, see their top-5 labels."""
