"""How closely does noise calibration recover a known camera? (issue 5: "state the error")

The camera is the one ``tests/test_calibrate.py`` builds (Gaussian read noise and row noise with
ELD's log-linear laws, no scatter, gain K at four ISOs); this script loads that module by path
so the benchmark and the test share one definition, estimates the camera both ways
(:func:`tfraw.calibrate.estimate_from_pair` on 256x512 noisy/clean pairs at ratio 50, and
:func:`tfraw.calibrate.estimate_from_flat_dark` from three flat pairs and two darks per ISO),
fits the profile (:func:`tfraw.calibrate.fit_profile`) and prints, per method, the largest
relative error of K, read sigma and row sigma over the ISOs and the fitted law coefficients
beside the true ones, as one JSON line each.

    python benchmarks/calibration_recovery.py
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfraw import calibrate  # noqa: E402


def _camera_module():
    path = Path(__file__).resolve().parents[1] / "tests" / "test_calibrate.py"
    spec = importlib.util.spec_from_file_location("tfraw_calibration_camera", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _estimates(cam):
    clean, ratio = cam._scene(), 50.0
    pairs = [
        calibrate.estimate_from_pair(
            100 * (i + 1), cam._noisy([i, 1], clean, k), clean * ratio, ratio
        )
        for i, k in enumerate(cam.GAINS)
    ]
    frames = []
    for i, k in enumerate(cam.GAINS):
        flats = []
        for j, level in enumerate((200.0, 800.0, 2000.0)):
            flat = np.full(cam.SIZE, level, np.float32)
            flats.append((cam._noisy([i, 10 + j], flat, k), cam._noisy([i, 20 + j], flat, k)))
        darks = [cam._noisy([i, 30 + j], np.zeros(cam.SIZE, np.float32), k) for j in range(2)]
        frames.append(
            calibrate.estimate_from_flat_dark(100 * (i + 1), flats, darks, pattern="RGGB")
        )
    return {"pairs": pairs, "flat_dark": frames}


def main() -> None:
    cam = _camera_module()
    for method, estimates in _estimates(cam).items():
        worst = {"k": 0.0, "sigma_read": 0.0, "sigma_row": 0.0}
        for estimate, k in zip(estimates, cam.GAINS, strict=True):
            truth = {key: float(v) for key, v in cam._params(k).items()}
            truth["k"] = truth.pop("K")
            for key in worst:
                error = abs(getattr(estimate, key) - truth[key]) / truth[key]
                worst[key] = max(worst[key], error)
        profile = calibrate.fit_profile(estimates, method)
        print(json.dumps({
            "method": method,
            "max_relative_error": {key: round(value, 4) for key, value in worst.items()},
            "read_law": {"slope": round(profile.read_law.slope, 3), "true_slope": cam.READ.slope,
                         "intercept": round(profile.read_law.intercept, 3),
                         "true_intercept": cam.READ.intercept},
            "row_law": {"slope": round(profile.row_law.slope, 3), "true_slope": cam.ROW.slope,
                        "intercept": round(profile.row_law.intercept, 3),
                        "true_intercept": cam.ROW.intercept},
        }))  # fmt: skip


if __name__ == "__main__":
    main()
