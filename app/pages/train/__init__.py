"""The Train page: pick a folder, fine-tune with live curves, browse and reuse runs."""
