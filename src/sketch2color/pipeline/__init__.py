"""The six DVC stages, one module each, all of one shape: ``run(params, paths)``.

``stages/<name>.py`` is one line, ``run_stage("sketch2color.pipeline.<name>:run")``;
each module here reads the stage's inputs, calls the package's logic and writes
the stage's outputs, so what a stage does is read in one place:

* :mod:`.fetch` - ``fetch.source`` -> data/raw;
* :mod:`.split` - data/raw -> data/split;
* :mod:`.augment` - data/split -> data/augmented;
* :mod:`.train` - data/augmented -> models/generator.keras, tracked in MLflow;
* :mod:`.evaluate` - the generator on the test split -> metrics/eval.json, metrics/samples.png;
* :mod:`.export` - the generator in serving formats -> models/export, metrics/export.json.
"""
