"""Offline training: corpus -> tokens -> GRU -> ONNX."""
