"""What a run produced: ML Metadata queries, TFMA result readers, the served-model check."""
