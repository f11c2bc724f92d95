"""Fine-tuning on the user's folders: train() as a generator of events, datasets, loaders, the feature cache, schedule, checkpoints, runs, evaluation and distributed runs."""
