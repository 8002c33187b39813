"""Kubeflow Pipelines and Vertex AI: compiling the pipeline (``compiler``), executing a compiled spec
on this machine (``launcher``, with ``spec`` and ``artifact_record``), and the dry run of two runs
through it (``dry_run``)."""
