"""The pipeline: configuration, create_pipeline(...), its runners, result readers and reports.

Importing it changes nothing: the Keras environment the runs need is set by
every command as it starts (``pipeline.cli.command.use_legacy_keras``).
"""
