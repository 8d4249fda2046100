"""TF Serving clients: exact ``PredictRequest`` (gRPC) and JSON (REST) payloads for an image.

The request carries the chain's inputs (:data:`tfraw.inference.chain.CHAIN_INPUTS`): ``mosaic``
float32 ``(1, H, W, 1)``, ``cfa_pattern`` int32 ``(1, 6, 6)``, ``wb_gains`` float32 ``(1, 3)`` and
``cam_to_srgb`` float32 ``(1, 3, 3)``; the response holds ``output`` float32 ``(1, H, W, 3)``.

REST uses the columnar ``{"signature_name": ..., "inputs": {...}}`` format of TF Serving's
``POST /v1/models/<name>[/versions/<v>]:predict``; gRPC uses
``tensorflow.serving.PredictionService/Predict``. Needs ``tensorflow-serving-api`` for gRPC
(``pip install 'tfraw[serving]'``); the REST client needs only the standard library and numpy.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import numpy as np

__all__ = [
    "GrpcClient",
    "RestClient",
    "inputs_for_raw",
    "predict_request",
    "rest_payload",
    "rest_url",
]


def inputs_for_raw(raw) -> dict[str, np.ndarray]:
    """The chain's request inputs (batch of one) for a :class:`tfraw.io.RawImage`."""
    from tfraw.inference.chain import inputs_from_raw

    return inputs_from_raw(raw)


def predict_request(
    inputs: dict[str, np.ndarray],
    model_name: str,
    signature_name: str = "serving_default",
    version: int | None = None,
):
    """A ``tensorflow.serving.PredictRequest`` holding ``inputs`` as TensorProtos."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return request


def rest_payload(inputs: dict[str, np.ndarray], signature_name: str = "serving_default") -> dict:
    """The JSON body of a REST predict call (columnar ``inputs`` format)."""
    return {
        "signature_name": signature_name,
        "inputs": {name: np.asarray(value).tolist() for name, value in inputs.items()},
    }


def rest_url(host: str, port: int, model_name: str, version: int | None = None) -> str:
    version_part = f"/versions/{int(version)}" if version is not None else ""
    return f"http://{host}:{port}/v1/models/{model_name}{version_part}:predict"


def _outputs_from_json(body: dict) -> dict[str, np.ndarray]:
    outputs = body.get("outputs", body.get("predictions"))
    if isinstance(outputs, dict):
        return {k: np.asarray(v, np.float32) for k, v in outputs.items()}
    return {"output": np.asarray(outputs, np.float32)}


class RestClient:
    """``RestClient("localhost", 8501).predict("render_classical", inputs)["output"]``."""

    def __init__(self, host: str = "localhost", port: int = 8501, timeout: float = 300.0):
        self.host, self.port, self.timeout = host, int(port), float(timeout)

    def predict(
        self,
        model_name: str,
        inputs: dict[str, np.ndarray],
        version: int | None = None,
        signature_name: str = "serving_default",
    ) -> dict[str, np.ndarray]:
        body = json.dumps(rest_payload(inputs, signature_name)).encode()
        request = urllib.request.Request(
            rest_url(self.host, self.port, model_name, version),
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return _outputs_from_json(json.loads(response.read()))


class GrpcClient:
    """``GrpcClient("localhost", 8500).predict("render_classical", inputs)["output"]``."""

    # 96 MP float32 in and out is ~1.5 GB: raise gRPC's 4 MB default message size.
    MAX_MESSAGE_BYTES = 2**31 - 1

    def __init__(self, host: str = "localhost", port: int = 8500, timeout: float = 300.0):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        options = [
            ("grpc.max_send_message_length", self.MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", self.MAX_MESSAGE_BYTES),
        ]
        self.channel = grpc.insecure_channel(f"{host}:{int(port)}", options=options)
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.timeout = float(timeout)

    def predict(
        self,
        model_name: str,
        inputs: dict[str, np.ndarray],
        version: int | None = None,
        signature_name: str = "serving_default",
    ) -> dict[str, Any]:
        import tensorflow as tf

        request = predict_request(inputs, model_name, signature_name, version)
        response = self.stub.Predict(request, timeout=self.timeout)
        return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
