"""mtl-predict: score a file of rows with a pushed model (``cli``)."""
