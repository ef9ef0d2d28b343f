"""DVC stage `train`: data/augmented -> models/generator.keras, tracked in MLflow.

See sketch2color.pipeline.train.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.pipeline.train:run")
