"""Running a trained generator on pictures: the one inference layer of the project.

Every consumer goes through here: evaluate, the export parity check,
``sketch2color colorize``, the GUI, the validation figure, the benchmark's
serving section and the MLflow model. So the parity check checks exactly
what colorize runs, and a picture is the same whichever tool made it.

* :mod:`.backends` - loading a ``.keras`` (safe_mode), SavedModel or TFLite (LiteRT) generator;
* :mod:`.selection` - which generator to use when none is named;
* :mod:`.geometry` - fitting an image of any size into the model's square and back;
* :mod:`.compose` - line-faithful output at the sketch's own resolution, and its layers;
* :mod:`.regions` - the drawing's regions, closed across gaps in the lines (trapped ball);
* :mod:`.fill` - each dab fills the region it was put in, the page stays paper;
* :mod:`.user_hints` - hints as users give them (a hint image, dabs), and painting a dab;
* :mod:`.colorizer` - a sketch in, a picture of its size out.

The inference mode (``evaluate.inference_mode``) means the same everywhere:
``eval`` calls the generator with ``training=False`` (dropout off, batch-norm
moving statistics), ``train_dropout`` keeps dropout on as pix2pix's original
code did at test time. Importing this package loads neither TensorFlow nor
OpenCV's filters; the modules that need them load them when used.

The model's pixel contract (its value range and input channels) is not
inference's own: training, export and the data share it, so it lives on the
ground floor, in :mod:`sketch2color.pixels`.
"""

from sketch2color.inference.errors import InferenceError, ModelLoadError, Report

__all__ = ["InferenceError", "ModelLoadError", "Report"]
