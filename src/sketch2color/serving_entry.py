"""MLflow's models-from-code entry for the colorizer: the model is built here, never unpickled.

``mlflow.pyfunc.log_model(python_model=<this file>)`` stores this source, not
a pickle of the object, and runs it when the model is loaded; the project
never loads pickles (see the untrusted-model tests), and its own model should
be no exception.
"""

from mlflow.models import set_model

from sketch2color.serving import SketchColorizer

set_model(SketchColorizer())
