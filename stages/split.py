"""DVC stage `split`: data/raw -> data/split (see sketch2color.data.split)."""

from sketch2color.data.split import split_stage
from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage(split_stage)
