"""Beam's in-process runner, as a local run sets it up, reads side inputs without weighing them."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import worker_handlers
from apache_beam.runners.worker import statecache
from apache_beam.testing.util import assert_that, equal_to

from pipeline.beam_workers import without_state_cache


@pytest.fixture
def weighings(monkeypatch):
    """Counts Beam's weighing of cached values (the real function still runs); restores the cache size."""
    calls = []
    weigh = statecache.get_deep_size

    def counted(*objs):
        calls.append(len(objs))
        return weigh(*objs)

    monkeypatch.setattr(statecache, "get_deep_size", counted)
    monkeypatch.setattr(worker_handlers, "STATE_CACHE_SIZE_MB", worker_handlers.STATE_CACHE_SIZE_MB)
    return calls


def _run_with_a_side_input() -> None:
    """Each element plus the sum of a side input, over several bundles, on the in-process runner."""
    with beam.Pipeline(runner="DirectRunner", options=beam.options.pipeline_options.PipelineOptions(
            ["--direct_running_mode=in_memory"])) as pipeline:
        offsets = pipeline | "offsets" >> beam.Create([1, 2, 3])
        shifted = (pipeline | "values" >> beam.Create(list(range(20)), reshuffle=True)
                   | beam.Map(lambda x, side: x + sum(side), side=beam.pvalue.AsList(offsets)))
        assert_that(shifted, equal_to([x + 6 for x in range(20)]))


def test_beam_weighs_each_side_input_it_caches_by_default(weighings):
    _run_with_a_side_input()
    assert weighings  # what without_state_cache saves


def test_without_the_state_cache_side_inputs_are_read_and_never_weighed(weighings):
    without_state_cache()
    _run_with_a_side_input()  # the side input still reaches every element (assert_that)
    assert weighings == []
