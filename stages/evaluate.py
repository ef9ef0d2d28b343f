"""DVC stage `evaluate`: the generator on the test split -> metrics/eval.json, metrics/samples.png.

See sketch2color.pipeline.evaluate.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.pipeline.evaluate:run")
