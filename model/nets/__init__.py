"""Networks and their weights: building EfficientNets, ImageNet and user weights (cache, download, import, validation), bundles, the ready classifier and the compute device."""
