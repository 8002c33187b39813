"""How Beam runs a local pipeline: in this process for small data, one worker per core for large.

Beam's in-process DirectRunner uses one core. Its multi-process mode
(``--direct_running_mode=multi_processing``) spreads each Beam step over
worker processes, but starting them and shipping data to them costs tens of
seconds a run, so it pays off only above a size (measured with
``bench/scaling.py``; see the README's Performance section). Arguments the
user gives (``beam_args``) are always used as they are.

The choice of arguments is pure Python, testable without Beam;
``without_state_cache`` changes Beam itself and imports it.
"""

from __future__ import annotations

import os
from typing import Optional

from config import PipelineConfig
from models.tasks import task_type

# At or above this many examples a local run uses one Beam worker per core.
MULTI_PROCESS_MIN_EXAMPLES = 200_000
# The same for files, by size: a synthetic example is about 600 bytes as a
# tf.Example and 1 KB as a CSV row.
MULTI_PROCESS_MIN_BYTES = 150 * 2 ** 20


def local_beam_args(config: PipelineConfig, cores: Optional[int] = None) -> list[str]:
    """The Beam arguments of a local run: the user's, else multi-process for large data on several cores."""
    if config.beam_args:
        return list(config.beam_args)
    cores = os.cpu_count() if cores is None else cores
    if not cores or cores < 2 or not config.data.at_least(MULTI_PROCESS_MIN_EXAMPLES, MULTI_PROCESS_MIN_BYTES):
        return []
    return ["--direct_running_mode=multi_processing", f"--direct_num_workers={cores}"]


# What keeps a Beam step in this process when the pipeline runs worker processes.
IN_PROCESS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def evaluator_beam_args(config: PipelineConfig, cores: Optional[int] = None) -> list[str]:
    """The Evaluator's own Beam arguments: in this process where the others chose worker processes.

    With per-slice groups (every task type ``grouped_eval``) the Evaluator does too little per
    example to pay for shipping it to workers: at 200,000 eval examples it took
    23 s in process and 38 s with two worker processes (``bench/evaluator.py``).
    Per-example evaluation keeps the pipeline's choice.
    """
    grouped_eval = all(task_type(task.type).grouped_eval for task in config.tasks)
    if not grouped_eval or config.beam_args or not local_beam_args(config, cores):
        return []
    return list(IN_PROCESS)


def without_state_cache() -> None:
    """Beam's runner in this process caches side inputs without weighing them.

    Beam's in-process worker keeps a 100 MB cache of side inputs and state, and
    weighs every value it loads with ``objsize``, which walks the globals of
    every imported module (thousands, with TensorFlow) on each load. In a
    profile of a daily run (py-spy, 100,000 rows a span) that was 9% of all
    samples and 15% of Transform's. With the cache off, as Beam's SDK workers
    default it (``--max_cache_memory_usage_mb=0``), side inputs are read from the
    runner's memory each time instead. The in-process worker takes no
    argument for its size, so the module's setting is changed: call this before
    a pipeline runs.
    """
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    worker_handlers.STATE_CACHE_SIZE_MB = 0
