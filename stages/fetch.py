"""DVC stage `fetch`: fill data/raw/ from params.fetch.

See sketch2color.data.fetch.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.data.fetch:fetch_stage")
