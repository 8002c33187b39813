"""What a person reads after a run: the console summary and the evaluation report."""
