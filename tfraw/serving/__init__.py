"""TF Serving contract: ``models.config`` for exported models and REST/gRPC clients.

See ``docs/serving.md``. No server is needed to build payloads; the gRPC client and the warm-up
requests need ``tensorflow-serving-api`` (``pip install 'tfraw[serving]'``).
"""
