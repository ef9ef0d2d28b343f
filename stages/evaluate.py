"""DVC stage `evaluate`: models/generator.keras + data/split -> metrics/eval.json, metrics/samples.png.

See sketch2color.evaluation.stage.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.evaluation.stage:evaluate_stage")
