"""ONNX in: ``codegen convert`` turns an ONNX model (e.g. a PyTorch export) into a float or full-int8 .tflite.

onnx file -> :mod:`onnx_model` (read, check, fix shapes) -> :mod:`layout` (ONNX rewrites so that no TRANSPOSE
is left in the converted graph) -> :mod:`tf_bridge` (onnx2tf, offline, to a Keras model with NHWC input) ->
:mod:`codegen.train.quantize` (float32 / calibrated full-int8 TFLite) -> :mod:`checks` (float TFLite vs
onnxruntime, int8 accuracy) -> files. :func:`codegen.convert.pipeline.convert_onnx` runs all of it.
"""
