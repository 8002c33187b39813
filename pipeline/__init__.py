"""The pipeline: configuration, create_pipeline(...), its runners, result readers and reports.

The one place the Keras environment is set: TFT's layers and the Trainer's
model are tf_keras (Keras 2), so ``TF_USE_LEGACY_KERAS`` must be set before
TensorFlow is imported. Every entry point (the commands, ``models`` and
``components`` code TFX loads) imports this package first.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
