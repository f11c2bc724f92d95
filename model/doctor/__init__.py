"""The dataset doctor: wrong labels, duplicates, leaks, outliers and imbalance, and the fixes a person approves.

- ``collect``: every image of every split, with its size and fingerprint
- ``features``: pooled backbone features of a bundle or a variant, cached under ``DATA_DIR/.studio/cache``
- ``labels``: out-of-fold probabilities from a linear head, then cleanlab's confident learning
- ``duplicates``: equal hashes and near-parallel features, grouped; groups across splits are leaks
- ``outliers``: isolated images, odd sizes and shapes; ``imbalance``: counts per class
- ``projection``: the 2-D embedding map (PCA, or UMAP when installed)
- ``report``: the findings and the ``--json`` object; ``sheets``: PNG contact sheets of the worst cases
- ``run``: ``diagnose`` (a generator of progress returning the report) and ``analyse``
- ``journal``: moves and exclusions the user approved, with undo; the doctor itself never changes data
"""
