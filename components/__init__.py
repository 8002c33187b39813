"""Custom TFX components and the pure-numpy synthetic data generator."""
