"""DVC stage `split`: data/raw -> data/split.

See sketch2color.data.split.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.data.split:split_stage")
