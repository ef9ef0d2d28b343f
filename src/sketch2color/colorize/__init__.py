"""``sketch2color colorize``: colouring sketch files and folders of any size.

A sketch from a user can have any size, aspect ratio and pixel format. Each
file is decoded by :func:`sketch2color.data.images.load_rgb` (the same
untrusted-file decoder the pipeline uses) and coloured through the inference
layer (:mod:`sketch2color.inference`), which fits it into the model's square
and brings the colour back to the file's own size, line-faithful by default.

Modules, one job each:

* :mod:`.inputs` - which files to colour and where each result goes;
* :mod:`.batching` - a stream of files coloured in batches and written;
* :mod:`.command` - ``run_colorize``, the command with its progress bar and summary line.
"""

from sketch2color.colorize.batching import DEFAULT_IO_WORKERS, Summary, colorize_jobs
from sketch2color.colorize.command import DEFAULT_BATCH_SIZE, run_colorize
from sketch2color.colorize.errors import ColorizeError
from sketch2color.colorize.inputs import Failure, Job, plan_jobs

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_IO_WORKERS",
    "ColorizeError",
    "Failure",
    "Job",
    "Summary",
    "colorize_jobs",
    "plan_jobs",
    "run_colorize",
]
