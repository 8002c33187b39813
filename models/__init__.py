"""Features, preprocessing, model builders and the Trainer entry point."""

import pipeline  # noqa: F401  (sets the Keras environment before TensorFlow is imported)
