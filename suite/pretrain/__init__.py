"""FinDNA pretraining: augmentations (augment), the method (findna), the loop (loop) and checkpoints."""
