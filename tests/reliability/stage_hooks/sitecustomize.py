"""Runs at the start of every Python process of a fault test (this folder is on its PYTHONPATH).

When the test asked for a fault (one of ``fault_hooks.VARIABLES`` is set),
the train stage is run with ``fault_hooks.EnvironmentFaults``; every other
stage, and every other process (DVC's own included), is left as it is.
"""

import os
import sys

RELIABILITY_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, RELIABILITY_TESTS)

from fault_hooks import TRAIN_STAGE, VARIABLES

if any(os.environ.get(name) for name in VARIABLES):
    import sketch2color.stage_runner as stage_runner

    _run_stage = stage_runner.run_stage

    def train_with_faults(params, paths):
        from fault_hooks import EnvironmentFaults

        from sketch2color.pipeline import train

        train.run(params, paths, hooks=EnvironmentFaults())

    def run_stage(stage):
        _run_stage(train_with_faults if stage == TRAIN_STAGE else stage)

    stage_runner.run_stage = run_stage
