"""Checks run before any component: the data against the configuration, deployment arguments."""
