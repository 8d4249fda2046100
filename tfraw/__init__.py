"""tfraw: neural camera pipelines in TensorFlow/Keras.

Submodules are imported on demand (``tfraw.io``, ``tfraw.isp``, ``tfraw.metrics`` ...) so that
``import tfraw`` stays cheap and does not pull in TensorFlow.
"""

__version__ = "0.1.0"
