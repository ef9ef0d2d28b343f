"""DVC stage `train`: data/augmented -> models/generator.keras (see sketch2color.training.stage)."""

from sketch2color.stage_runner import run_stage
from sketch2color.training.stage import train_stage

if __name__ == "__main__":
    run_stage(train_stage)
