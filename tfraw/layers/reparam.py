"""Reparameterizable convolution: LED's RepNR block as one Keras layer.

Jin, Guo, Li, Wang, Chen, Guo, Xie, Yu, "Lighting Every Darkness in Two Pairs: A Calibration-Free
Pipeline for RAW Denoising", ICCV 2023 (LED), Sec. 3.3: every 3x3 convolution of the denoiser is
preceded by a *camera-specific alignment* (CSA), a channel-wise affine ``x * scale + shift``, one
per virtual camera of the pre-training, selected by the camera index of each sample. Customizing
to a real camera trains a new alignment first, then a parallel 3x3 branch (zero-initialized, so the
model starts exactly where the pre-training left it). For deployment everything folds into one
plain convolution (:meth:`RepConv2D.folded_weights`):

``conv(pad(x * s + t), W + W_b) + c == conv(pad(x), (W + W_b) * s) + (c + sum_{k,i} (W + W_b)[k, i] t_i)``

The identity is exact at every pixel, borders included, because the padding is SYMMETRIC (edge
copied), which commutes with a channel-wise affine map; zero padding would not (the padded zeros
are not aligned), so the layer pads explicitly and convolves with ``padding="VALID"``.

Variables of a reparameterizable layer (``reparam=True``):

- ``kernel`` ``(k, k, C_in, C_out)``, ``bias`` ``(C_out,)``: the shared convolution;
- ``camera_scale``, ``camera_shift`` ``(num_cameras, C_in)``: the pre-training alignments (routed);
- ``align_scale``, ``align_shift`` ``(C_in,)``: the customized alignment used without a camera
  index, stored as an offset from the average camera alignment (zero-initialized): the deployed
  alignment is ``mean_c(camera_scale) + align_scale`` (and the same for the shift), so a
  pre-trained model deploys with the average camera and customization starts from it (LED
  initializes the new alignment as the average of the pre-trained ones);
- ``branch_kernel`` ``(k, k, C_in, C_out)``: the customization branch, zero-initialized.

A plain layer (``reparam=False``) has only ``kernel`` and ``bias``: it is the folded form.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfraw.errors import InputError

__all__ = ["RepConv2D"]


@keras.saving.register_keras_serializable(package="tfraw")
class RepConv2D(keras.layers.Layer):
    """``k x k`` convolution with camera-indexed alignment and a customization branch.

    Call as ``layer(x)`` (deployed alignment + branch) or ``layer(x, camera_index)`` (routed
    pre-training: the alignment of each sample's virtual camera, no branch; index ``-1`` takes
    the deployed alignment, still without the branch, which pre-training keeps at zero).

    Args:
        filters: output channels.
        kernel_size: odd kernel size (3 in LED).
        num_cameras: number of pre-training alignments (virtual cameras), >= 1.
        reparam: False builds the plain (folded) convolution only.

    Shapes: ``x`` float32 ``(B, H, W, C_in)``, ``camera_index`` int ``(B,)`` in
    ``[-1, num_cameras)``; output ``(B, H, W, filters)`` (same size: SYMMETRIC padding).

    Example:
        >>> layer = RepConv2D(8, num_cameras=3)
        >>> layer(tf.zeros((2, 5, 6, 4)), tf.constant([0, 2])).shape
        TensorShape([2, 5, 6, 8])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        num_cameras: int = 1,
        reparam: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(filters) < 1:
            raise InputError(f"RepConv2D: filters must be >= 1, got {filters!r}")
        if int(kernel_size) < 1 or int(kernel_size) % 2 == 0:
            raise InputError(f"RepConv2D: kernel_size must be odd and >= 1, got {kernel_size!r}")
        if int(num_cameras) < 1:
            raise InputError(f"RepConv2D: num_cameras must be >= 1, got {num_cameras!r}")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.num_cameras = int(num_cameras)
        self.reparam = bool(reparam)

    def build(self, x_shape, camera_index_shape=None):
        channels = x_shape[-1]
        if channels is None:
            raise InputError(f"RepConv2D needs a known channel count, got shape {x_shape}")
        k, cin, cout = self.kernel_size, int(channels), self.filters
        self.kernel = self.add_weight(
            name="kernel", shape=(k, k, cin, cout), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(cout,), initializer="zeros")
        if self.reparam:
            self.camera_scale = self.add_weight(
                name="camera_scale", shape=(self.num_cameras, cin), initializer="ones"
            )
            self.camera_shift = self.add_weight(
                name="camera_shift", shape=(self.num_cameras, cin), initializer="zeros"
            )
            self.align_scale = self.add_weight(
                name="align_scale", shape=(cin,), initializer="zeros"
            )
            self.align_shift = self.add_weight(
                name="align_shift", shape=(cin,), initializer="zeros"
            )
            self.branch_kernel = self.add_weight(
                name="branch_kernel", shape=(k, k, cin, cout), initializer="zeros"
            )

    def _pad(self, x: tf.Tensor) -> tf.Tensor:
        r = self.kernel_size // 2
        if r == 0:
            return x
        return tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]], mode="SYMMETRIC")

    def _conv(self, x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
        y = tf.nn.conv2d(self._pad(x), kernel, strides=1, padding="VALID")
        return tf.nn.bias_add(y, bias)

    def call(self, x, camera_index=None):
        x = tf.convert_to_tensor(x)
        if not self.reparam:
            return self._conv(x, self.kernel, self.bias)
        if camera_index is None:
            scale, shift = self.deployed_alignment()
            aligned = x * scale + shift
            return self._conv(aligned, self.kernel + self.branch_kernel, self.bias)
        # Index -1 picks the deployed alignment (row num_cameras of the table): the mixed
        # pre-training (DenoiseConfig.train_path "mixed") sends part of each batch down the path
        # a camera nobody calibrated takes. No branch on this call: pre-training holds it at 0.
        index = tf.reshape(tf.cast(camera_index, tf.int32), [-1])
        index = tf.where(index < 0, self.num_cameras, index)
        deployed_scale, deployed_shift = self.deployed_alignment()
        scales = tf.concat([self.camera_scale, deployed_scale[tf.newaxis]], axis=0)
        shifts = tf.concat([self.camera_shift, deployed_shift[tf.newaxis]], axis=0)
        scale = tf.gather(scales, index)[:, tf.newaxis, tf.newaxis, :]
        shift = tf.gather(shifts, index)[:, tf.newaxis, tf.newaxis, :]
        return self._conv(x * scale + shift, self.kernel, self.bias)

    def compute_output_shape(self, x_shape, camera_index_shape=None):
        return (*x_shape[:-1], self.filters)

    # -- reparameterization -------------------------------------------------------------------
    def deployed_alignment(self):
        """``(scale, shift)`` ``(C_in,)`` of the path without a camera index."""
        scale = keras.ops.mean(self.camera_scale, axis=0) + self.align_scale
        shift = keras.ops.mean(self.camera_shift, axis=0) + self.align_shift
        return scale, shift

    def folded_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``(kernel, bias)`` of the plain convolution equal to the deployed path (float64 sums)."""
        kernel = np.asarray(self.kernel.numpy(), np.float64)
        bias = np.asarray(self.bias.numpy(), np.float64)
        if not self.reparam:
            return kernel.astype(np.float32), bias.astype(np.float32)
        total = kernel + np.asarray(self.branch_kernel.numpy(), np.float64)
        scale = self.camera_scale.numpy().astype(np.float64).mean(axis=0)
        scale = scale + self.align_scale.numpy().astype(np.float64)
        shift = self.camera_shift.numpy().astype(np.float64).mean(axis=0)
        shift = shift + self.align_shift.numpy().astype(np.float64)
        folded_kernel = total * scale[None, None, :, None]
        folded_bias = bias + np.einsum("hwio,i->o", total, shift)
        return folded_kernel.astype(np.float32), folded_bias.astype(np.float32)

    def reset_alignment(self) -> None:
        """Deployed alignment := the average of the camera alignments (zero offsets)."""
        if self.reparam:
            self.align_scale.assign(keras.ops.zeros_like(self.align_scale))
            self.align_shift.assign(keras.ops.zeros_like(self.align_shift))

    def reset_branch(self) -> None:
        """Zeroes the customization branch (the model is then the aligned pre-trained one)."""
        if self.reparam:
            self.branch_kernel.assign(keras.ops.zeros_like(self.branch_kernel))

    @property
    def alignment_variables(self) -> list:
        """The customized alignment offsets ``[align_scale, align_shift]`` (phase 1)."""
        return [self.align_scale, self.align_shift] if self.reparam else []

    @property
    def branch_variables(self) -> list:
        """The customization branch ``[branch_kernel]`` (customization phase 2)."""
        return [self.branch_kernel] if self.reparam else []

    @property
    def camera_variables(self) -> list:
        """The routed pre-training alignments."""
        return [self.camera_scale, self.camera_shift] if self.reparam else []

    @property
    def shared_variables(self) -> list:
        """The shared convolution ``[kernel, bias]``."""
        return [self.kernel, self.bias]

    def macs(self, height: int, width: int) -> int:
        """Multiply-accumulates of one call on an ``height x width`` map (deployed path).

        The plain/folded form costs ``k^2 C_in C_out`` per pixel; the unfolded form adds the
        alignment (``C_in``) and the branch is summed into the kernel before the convolution, so
        it adds ``k^2 C_in C_out`` additions, counted here as MACs to be conservative.
        """
        k, cin = self.kernel_size, int(self.kernel.shape[2])
        conv = k * k * cin * self.filters * height * width
        if not self.reparam:
            return int(conv)
        return int(conv + cin * height * width + k * k * cin * self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "num_cameras": self.num_cameras,
            "reparam": self.reparam,
        }
