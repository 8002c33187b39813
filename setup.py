# Beam's --setup_file needs a file named setup.py; all metadata is in pyproject.toml.
from setuptools import setup

setup()
