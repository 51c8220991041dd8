"""The model: the event vocabulary, the encoder, the ONNX model, sampling, the model registry."""
