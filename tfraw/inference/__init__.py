"""Inference: tiling (:mod:`.tiling`), the pipeline chain (:mod:`.chain`) and export (:mod:`.export`).

Importing a submodule imports TensorFlow; this package file does not.
"""
