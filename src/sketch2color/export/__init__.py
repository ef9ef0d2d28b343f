"""The export stage: the trained generator in serving formats, checked against Keras.

* :mod:`~sketch2color.export.formats` - writing the SavedModel and TFLite files
  (and why there is no ONNX or int8 model);
* :mod:`~sketch2color.export.parity` - agreement with the Keras model, latency, throughput;

The stage itself is :mod:`sketch2color.pipeline.export`.
"""
