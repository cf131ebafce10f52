"""A trained generator put to use: loaded back in torch, run by onnxruntime, exported to ONNX, sampled to files.

Imports gantool.plugins, gantool.store and gantool.core."""
