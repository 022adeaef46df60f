"""Training side: data loaders, the synthesiser, augmentations, metrics, the training loop and export.

Never imported by the runtime; everything torch-dependent lives here or in asl_gpt.model.
"""
