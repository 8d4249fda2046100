"""Pure TensorFlow image-signal-processing functions: tensor in, tensor out.

No Keras, no files, no global state. Submodules:

- ``cfa``: CFA patterns, colour masks, mosaic, phase alignment, Bayer packing
- ``demosaic``: bilinear, Malvar-He-Cutler (Bayer), normalized convolution (any CFA, X-Trans)
- ``color``: white balance, colour matrices, camera->sRGB, CCT and DNG matrix interpolation
- ``colorspace``: XYZ, CIELAB, Oklab, Delta E 76 / 2000
- ``transfer``: sRGB, BT.2100 HLG and PQ transfer functions
- ``unprocess``: Brooks et al. 2019 unprocess / process pairs with stateless sampling
- ``noise``: physics noise model (shot, read, row, quantization) and calibrated profiles
- ``quantize``: integer quantization helpers
"""
