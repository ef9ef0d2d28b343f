"""Colouring sketch files of any size with the trained generator (``sketch2color colorize``).

A sketch from a user can have any size, aspect ratio and pixel format, while
the generator only takes S x S RGB. Each file is decoded by
:func:`sketch2color.data.images.load_rgb` (the same untrusted-file decoder the
pipeline uses), fitted into a white S x S square without distortion, coloured,
and the coloured square is cut back out and resized to the file's own size.

Modules, one job each (everything public is importable from here, which is
what the CLI, the GUI and the tests use):

* :mod:`.inputs` - which files to colour, where each result goes, reading a sketch;
* :mod:`.geometry` - fitting an image into the model's square and back;
* :mod:`.backends` - loading a ``.keras``, SavedModel or TFLite generator;
* :mod:`.selection` - which generator to use when none is named, and the project's settings;
* :mod:`.batching` - colouring one image, or a folder streamed in batches, and writing results;
* :mod:`.command` - ``run_colorize``, the command with its progress bar and summary line.
"""

from sketch2color.colorize.backends import (
    Backend,
    KerasBackend,
    SavedModelBackend,
    TFLiteBackend,
    model_format,
    open_model,
)
from sketch2color.colorize.batching import (
    DEFAULT_IO_WORKERS,
    Summary,
    colorize_array,
    colorize_jobs,
    save_rgb,
)
from sketch2color.colorize.command import DEFAULT_BATCH_SIZE, run_colorize
from sketch2color.colorize.errors import ColorizeError, Report
from sketch2color.colorize.geometry import WHITE, Placement, fit_to_square, restore_from_square
from sketch2color.colorize.inputs import Failure, Job, plan_jobs, read_sketch
from sketch2color.colorize.selection import (
    EXPORT_MANIFEST,
    FORMAT_PREFERENCE,
    SAVEDMODEL_DIR_NAMES,
    TFLITE_FILES,
    ExportInfo,
    Settings,
    choose_backend,
    exported_candidates,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_IO_WORKERS",
    "EXPORT_MANIFEST",
    "FORMAT_PREFERENCE",
    "SAVEDMODEL_DIR_NAMES",
    "TFLITE_FILES",
    "WHITE",
    "Backend",
    "ColorizeError",
    "ExportInfo",
    "Failure",
    "Job",
    "KerasBackend",
    "Placement",
    "Report",
    "SavedModelBackend",
    "Settings",
    "Summary",
    "TFLiteBackend",
    "choose_backend",
    "colorize_array",
    "colorize_jobs",
    "exported_candidates",
    "fit_to_square",
    "model_format",
    "open_model",
    "plan_jobs",
    "read_sketch",
    "restore_from_square",
    "run_colorize",
    "save_rgb",
]
