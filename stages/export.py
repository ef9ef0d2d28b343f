"""DVC stage `export`: models/generator.keras -> models/export/, metrics/export.json.

See sketch2color.pipeline.export.
"""

from sketch2color.stage_runner import run_stage

if __name__ == "__main__":
    run_stage("sketch2color.pipeline.export:run")
