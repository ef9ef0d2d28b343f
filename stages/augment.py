"""DVC stage `augment`: the paper's augmentation of the training split.

See sketch2color.pipeline.augment.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.pipeline.augment:run")
