"""The real model and one index over the real KB, built once per test session."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from migfix.indexer.build import build_index
from migfix.indexer.embed import SentenceTransformerEmbedder
from migfix.indexer.playbook import Playbook, load_playbooks

ROOT = Path(__file__).resolve().parents[2]


class CountingEmbedder(SentenceTransformerEmbedder):
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.embedded.extend(texts)
        return super().encode_documents(texts, progress=progress)


@pytest.fixture(scope="session")
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(scope="session")
def kb_playbooks() -> tuple[Playbook, ...]:
    return load_playbooks(ROOT / "kb")


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder, kb_playbooks) -> Path:
    """An index of the real KB; tests that damage or rebuild it work on a copy."""
    directory = tmp_path_factory.mktemp("index") / "index"
    build_index(kb_playbooks, directory, embedder, progress=False)
    return directory


@pytest.fixture
def index_copy(built_index, tmp_path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(built_index, target)
    return target
