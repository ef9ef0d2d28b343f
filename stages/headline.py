"""DVC stage `headline`: metrics/{train,eval,export}.json -> metrics/headline.json (the DVC metrics).

See sketch2color.pipeline.headline.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.pipeline.headline:run")
