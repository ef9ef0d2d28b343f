"""DVC stage `fetch`: fill data/raw with Kaggle-format pairs from params.fetch.

See sketch2color.pipeline.fetch.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.pipeline.fetch:run")
