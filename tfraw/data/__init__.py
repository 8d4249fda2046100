"""Data sources and recipes for training and evaluation.

Modules are imported on demand:

- :mod:`tfraw.data.torture`: synthetic torture patterns (gratings near Nyquist, zone plates,
  fractals, ...) and mixing them into a natural-image ``tf.data`` pipeline at a small ratio.
- :mod:`tfraw.data.sharpness`: ranking a folder of photographs by sharpness (variance of the
  Laplacian) to select the sharpest part of a training corpus.
"""
