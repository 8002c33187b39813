"""SyntheticExampleGen: a TFX ExampleGen that emits the synthetic multi-task data."""
