"""File input/output: camera raw -> RawImage, plain Bayer + JSON, DNG, RGB images, atomic writes.

TensorFlow is imported only by the functions that need it (PNG/JPEG coding, colour maths).
"""

from tfraw.io.atomic import atomic_write
from tfraw.io.dng import read_dng_tags, write_dng, write_raw_image_dng
from tfraw.io.image import apply_orientation, read_image, write_image
from tfraw.io.plain import read_plain_bayer, read_png_bayer, write_plain_bayer
from tfraw.io.raw import RawImage, read_raw

__all__ = [
    "RawImage",
    "apply_orientation",
    "atomic_write",
    "read_dng_tags",
    "read_image",
    "read_plain_bayer",
    "read_png_bayer",
    "read_raw",
    "write_dng",
    "write_image",
    "write_plain_bayer",
    "write_raw_image_dng",
]
