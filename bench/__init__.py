"""``make bench``: the pipeline's speed and memory, measured on the machine at hand.

``python -m bench`` prints a table and writes
``metrics/bench.json``. Each section is one module with one job:

* :mod:`.train` - train-step throughput of the paper's model at 256 px
  (batch 1 and larger, ``tf.function`` vs XLA, mixed precision on GPU),
  next to :mod:`.reference`, the TensorFlow tutorial's pix2pix, measured in
  the same run so the speed-up is a ratio taken at the same moment;
* :mod:`.input_pipeline` - the training's own tf.data input, alone;
* :mod:`.serving` - generator latency and throughput for Keras, SavedModel
  and TFLite;
* :mod:`.served_load` - the registered model behind a real ``mlflow models
  serve`` (and ``sketch2color serve``) under 1, 4 and 8 concurrent clients:
  requests/s, latency, the server's memory, and its memory after the largest
  request the bounds allow;
* :mod:`.data_stages` - synthetic generation, split and augment in pairs/s;
* :mod:`.stages` - wall time and peak memory of each stage on a small project;
* :mod:`.colorize_memory` - peak memory of ``sketch2color colorize`` over a
  folder of 50 and of 500 sketches;
* :mod:`.repro` (opt-in, minutes) - the default ``dvc repro`` from an empty
  cache and a no-op ``dvc repro`` in a temporary copy of the project.

Speed is reported, never asserted: it depends on the machine and on whoever
else is using it (the load average is recorded next to the figures).
"""
