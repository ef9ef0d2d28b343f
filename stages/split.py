"""DVC stage `split`: data/raw -> data/split (train/val/test shards).

See sketch2color.pipeline.split.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.pipeline.split:run")
