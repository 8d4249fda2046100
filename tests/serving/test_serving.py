"""TF Serving contract: models.config, exact PredictRequest / JSON payloads, warm-up records."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.serving import client
from tfraw.serving.config import find_exports, models_config

serving_apis = pytest.importorskip("tensorflow_serving.apis")


def _inputs():
    rng = np.random.default_rng(0)
    return {
        "mosaic": rng.uniform(0, 1, (1, 4, 6, 1)).astype(np.float32),
        "cfa_pattern": np.tile(np.array([[0, 1], [1, 2]], np.int32), (3, 3))[None],
        "wb_gains": np.array([[2.0, 1.0, 1.5]], np.float32),
        "cam_to_srgb": np.eye(3, dtype=np.float32)[None],
    }


def _fake_export(root: Path, name: str, versions=(1,)):
    for v in versions:
        (root / name / str(v)).mkdir(parents=True)
        (root / name / str(v) / "saved_model.pb").write_bytes(b"")


def test_models_config_parses_as_model_server_config(tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    _fake_export(tmp_path, "render_classical", (1, 2))
    _fake_export(tmp_path, "demosaic_malvar")
    (tmp_path / "not_a_model").mkdir()
    assert find_exports(tmp_path) == {"demosaic_malvar": [1], "render_classical": [1, 2]}
    text = models_config(tmp_path, base_path="/models")
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    entries = {c.name: c for c in config.model_config_list.config}
    assert set(entries) == {"demosaic_malvar", "render_classical"}
    assert entries["render_classical"].base_path == "/models/render_classical"
    assert entries["render_classical"].model_platform == "tensorflow"
    every = text_format.Parse(
        models_config(tmp_path, all_versions=True), model_server_config_pb2.ModelServerConfig()
    )
    assert every.model_config_list.config[0].model_version_policy.HasField("all")


def test_models_config_empty_folder_is_an_error(tmp_path):
    with pytest.raises(InputError, match=str(tmp_path)):
        models_config(tmp_path)


def test_predict_request_is_exact():
    inputs = _inputs()
    request = client.predict_request(inputs, "render_classical", version=3)
    assert request.model_spec.name == "render_classical"
    assert request.model_spec.signature_name == "serving_default"
    assert request.model_spec.version.value == 3
    assert set(request.inputs) == set(inputs)
    for name, value in inputs.items():
        got = tf.make_ndarray(request.inputs[name])
        assert got.dtype == value.dtype and got.shape == value.shape
        np.testing.assert_array_equal(got, value)
    assert request.inputs["cfa_pattern"].dtype == tf.int32.as_datatype_enum
    # Round trip through the wire format.
    parsed = type(request).FromString(request.SerializeToString())
    assert parsed == request


def test_rest_payload_is_exact():
    inputs = _inputs()
    body = json.loads(json.dumps(client.rest_payload(inputs)))
    assert body["signature_name"] == "serving_default"
    assert set(body["inputs"]) == set(inputs)
    np.testing.assert_array_equal(
        np.asarray(body["inputs"]["mosaic"], np.float32), inputs["mosaic"]
    )
    assert body["inputs"]["cfa_pattern"][0][0] == [0, 1, 0, 1, 0, 1]
    assert (
        client.rest_url("h", 8501, "render_classical")
        == "http://h:8501/v1/models/render_classical:predict"
    )
    assert client.rest_url("h", 8501, "m", 2).endswith("/v1/models/m/versions/2:predict")


def test_rest_client_against_local_http_stub():
    """A stand-in HTTP server checks the request the REST client sends and answers like TF Serving."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen["path"] = self.path
            seen["body"] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            payload = json.dumps({"outputs": np.zeros((1, 4, 6, 3)).tolist()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    out = client.RestClient("127.0.0.1", server.server_address[1]).predict(
        "render_classical", _inputs()
    )
    thread.join(10)
    server.server_close()
    assert seen["path"] == "/v1/models/render_classical:predict"
    assert seen["body"] == json.loads(json.dumps(client.rest_payload(_inputs())))
    assert out["output"].shape == (1, 4, 6, 3)


def test_warmup_records_parse(tmp_path):
    from tensorflow_serving.apis import prediction_log_pb2

    from tfraw.inference.export import write_warmup_requests

    path = write_warmup_requests(tmp_path, "render_classical", _inputs(), count=2)
    assert path == tmp_path / "assets.extra" / "tf_serving_warmup_requests"
    records = list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
    assert len(records) == 2
    log = prediction_log_pb2.PredictionLog.FromString(records[0])
    assert log.predict_log.request.model_spec.name == "render_classical"
    np.testing.assert_array_equal(
        tf.make_ndarray(log.predict_log.request.inputs["mosaic"]), _inputs()["mosaic"]
    )
