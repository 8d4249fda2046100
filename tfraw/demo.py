"""A self-made raw for ``tfraw render --demo``: a bundled scikit-image photo turned into a DNG.

The photo (8-bit sRGB) is unprocessed (Brooks et al. 2019): inverse sRGB transfer, inverse camera→sRGB
matrix and inverse white-balance gains, then mosaicked with a Bayer (RGGB) or X-Trans pattern,
quantized to 14 bits above a black level and written as a DNG carrying the matching ColorMatrix1 and
AsShotNeutral. The inverse tone curve and brightness change of the paper are left out on purpose: a
classical render applies neither, so the demo's round-trip PSNR measures exactly what the raw path
loses (demosaicing and 14-bit quantization), nothing else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: A real camera's XYZ→camera ColorMatrix2 (D65): the Nikon D750 matrix recorded in the sidecar of
#: the shared ``DSC_1339`` crop, so the demo carries a non-trivial colour matrix.
DEMO_XYZ_TO_CAMERA = np.array(
    [[0.9020, -0.2890, -0.0715], [-0.4535, 1.2436, 0.2348], [-0.0934, 0.1919, 0.7086]]
)
#: As-shot white-balance gains (R, G, B) of that crop's daylight scene (its sidecar, rounded).
DEMO_WB_GAINS = np.array([1.95, 1.0, 1.34])
DEMO_BLACK = 512
DEMO_WHITE = 16383


def demo_photo() -> np.ndarray:
    """The bundled scikit-image ``astronaut`` photo as float32 sRGB (512, 512, 3) in [0, 1]."""
    from skimage import data

    return data.astronaut().astype(np.float32) / 255.0


def make_demo_raw(path: str | Path, cfa: str = "bayer") -> np.ndarray:
    """Writes the demo DNG to ``path`` and returns the reference sRGB image it was made from.

    Args:
        path: output ``.dng`` path (written atomically).
        cfa: "bayer" (RGGB) or "xtrans" (Fujifilm 6×6).

    Returns:
        float32 (H, W, 3) display sRGB in [0, 1], the ground truth of the round trip.
    """
    from tfraw.errors import InputError
    from tfraw.io import write_dng
    from tfraw.isp import cfa as cfa_ops
    from tfraw.isp import color, transfer

    names = {"bayer": "RGGB", "xtrans": "xtrans"}
    if cfa not in names:
        raise InputError(f"--cfa must be 'bayer' or 'xtrans', got {cfa!r}")
    pattern = cfa_ops.as_pattern(names[cfa])
    srgb = demo_photo()
    h, w = (srgb.shape[0] // 6) * 6, (srgb.shape[1] // 6) * 6
    srgb = srgb[:h, :w]
    linear = transfer.srgb_to_linear(srgb)
    cam_to_srgb = color.camera_to_srgb_matrix(DEMO_XYZ_TO_CAMERA).numpy()
    camera_balanced = color.apply_ccm(linear, np.linalg.inv(cam_to_srgb).astype(np.float32))
    camera = color.apply_white_balance(camera_balanced, (1.0 / DEMO_WB_GAINS).astype(np.float32))
    mosaic = cfa_ops.mosaic(camera, pattern)[..., 0].numpy()
    dn = np.clip(np.round(mosaic * (DEMO_WHITE - DEMO_BLACK) + DEMO_BLACK), 0, DEMO_WHITE)
    write_dng(
        path,
        dn.astype(np.uint16),
        pattern,
        black_level=DEMO_BLACK,
        white_level=DEMO_WHITE,
        as_shot_neutral=1.0 / DEMO_WB_GAINS,
        color_matrix1=DEMO_XYZ_TO_CAMERA,
        calibration_illuminant1=21,
        make="tfraw",
        model=f"demo-{cfa}",
        iso=100,
        exposure_time=1 / 125,
        f_number=5.6,
    )
    return srgb
