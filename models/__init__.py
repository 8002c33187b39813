"""Features, preprocessing, model builders and the Trainer entry point."""
import os

# TFT and the Trainer use Keras 2 (tf_keras); must be set before TF is imported.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
