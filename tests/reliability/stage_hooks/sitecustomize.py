"""Runs at the start of every Python process of a fault test (this folder is on its PYTHONPATH).

When the test asked for a fault (one of ``fault_hooks.VARIABLES`` is set),
the train stage runs as ``fault_hooks.train_with_faults`` (the real stage
with ``fault_hooks.EnvironmentFaults``); every other stage, and every other
process (DVC's own included), is left as it is.
"""

import os
import sys

RELIABILITY_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, RELIABILITY_TESTS)

from fault_hooks import FAULTY_TRAIN_STAGE, TRAIN_STAGE, VARIABLES

if any(os.environ.get(name) for name in VARIABLES):
    import sketch2color.stage_runner as stage_runner

    _run_stage = stage_runner.run_stage

    def run_stage(stage: str) -> None:
        _run_stage(FAULTY_TRAIN_STAGE if stage == TRAIN_STAGE else stage)

    stage_runner.run_stage = run_stage
