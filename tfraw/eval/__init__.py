"""Benchmarks behind ``tfraw eval <stage>``: each module runs one stage's protocol on a folder.

- :mod:`tfraw.eval.demosaic`: CPSNR of classical, LibRaw and trained demosaickers (Kodak24
  protocol of ``../shared/data/README.md``) on any folder of 8-bit sRGB images.
"""
