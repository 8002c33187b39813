"""CsvExampleGen with forgiving headers and cells (see ``executor.py``)."""
