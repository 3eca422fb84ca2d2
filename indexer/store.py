"""The index on disk: what it contains, how it is checked, and how it is queried.

An index directory holds ``manifest.json``, ``passages.jsonl`` (line *i* describes vector
*i*), ``passages.faiss`` (an inner-product index over unit vectors, i.e. cosine),
``embeddings.npy`` (the same vectors, reused by incremental rebuilds) and
``lexical.json`` (BM25). The manifest records each file's sha256, the model and the KB
digest, so a reader can refuse an index that is half-written, garbled, or built from
another KB or model, and say which command fixes it. Loading never imports faiss or
torch: the dense part is opened on the first dense query.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from migfix.indexer.errors import CorruptIndexError, IndexMissingError, StaleIndexError
from migfix.indexer.lexical import BM25Index
from migfix.indexer.passages import Passage
from migfix.indexer.playbook import Playbook, kb_digest, load_playbooks

if TYPE_CHECKING:
    from migfix.indexer.embed import Embedder

FORMAT = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
FAISS = "passages.faiss"
EMBEDDINGS = "embeddings.npy"
LEXICAL = "lexical.json"
DATA_FILES = (PASSAGES, FAISS, EMBEDDINGS, LEXICAL)
FIX = "run `migfix index`"


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; ``files`` maps each data file to its sha256."""

    format: int
    migfix_version: str
    model: str
    dimension: int
    metric: str
    normalized: bool
    count: int
    playbooks: int
    kb_sha256: str
    built_at: str
    passages: str = PASSAGES
    embedded: int = 0
    reused: int = 0
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass(frozen=True)
class Hit:
    """One ranked passage; scores are comparable only within one search."""

    passage_id: str
    playbook_id: str
    score: float


_REQUIRED: dict[str, type] = {
    "model": str,
    "dimension": int,
    "count": int,
    "kb_sha256": str,
    "files": dict,
    "built_at": str,
}


def default_index_dir() -> Path:
    """``$MIGFIX_INDEX_DIR``, else the per-user cache (``$XDG_CACHE_HOME/migfix/index``)."""
    configured = os.environ.get("MIGFIX_INDEX_DIR")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "migfix" / "index"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory: Path) -> Manifest:
    """The manifest of *directory*; missing is :class:`IndexMissingError`, unreadable is corrupt."""
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexMissingError(f"no index at {directory}; {FIX}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if data.get("format") != FORMAT:
            raise StaleIndexError(
                f"the index at {directory} has format {data.get('format')!r},"
                f" this migfix reads {FORMAT}; {FIX}"
            )
        for name, kind in _REQUIRED.items():
            if not isinstance(data.get(name), kind):
                raise ValueError(f"'{name}' is missing or not a {kind.__name__}")
        return Manifest.from_dict(data)
    except (UnicodeDecodeError, ValueError, TypeError) as exc:
        raise CorruptIndexError(f"the index manifest {path} is unreadable ({exc}); {FIX}") from None


def read_passages(path: Path) -> list[Passage]:
    passages: list[Passage] = []
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            row = json.loads(line)
            passage = Passage(row["passage_id"], row["playbook_id"], row["section"], row["text"])
            if passage.text_sha256 != row["text_sha256"]:
                raise ValueError(f"line {n}: text does not match its text_sha256")
            passages.append(passage)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndexError(f"{path} is unreadable ({exc}); {FIX}") from None
    return passages


def read_embeddings(path: Path, count: int, dimension: int) -> np.ndarray:
    """The stored vectors, checked for shape and dtype."""
    try:
        vectors: np.ndarray = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptIndexError(f"{path} is unreadable ({exc}); {FIX}") from None
    if vectors.dtype != np.float32 or vectors.shape != (count, dimension):
        raise CorruptIndexError(
            f"{path} holds {vectors.dtype} {vectors.shape},"
            f" expected float32 ({count}, {dimension}); {FIX}"
        )
    return vectors


class IndexBundle:
    """A loaded, verified index: passages, BM25, and the FAISS index opened on demand."""

    def __init__(
        self, directory: Path, manifest: Manifest, passages: list[Passage], lexical: BM25Index
    ):
        self.directory = directory
        self.manifest = manifest
        self.passages = passages
        self.lexical = lexical
        self._by_id = {p.passage_id: p for p in passages}
        self._dense: Any = None
        self._centroid_matrix: tuple[list[str], np.ndarray] | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        directory: Path | str,
        playbooks: Iterable[Playbook] | None = None,
        model_name: str | None = None,
    ) -> IndexBundle:
        """Open and verify an index; stale or corrupt ones are refused with the reason."""
        directory = Path(directory)
        manifest = read_manifest(directory)
        if model_name is not None and manifest.model != model_name:
            raise StaleIndexError(
                f"the index at {directory} was built with {manifest.model}, not {model_name}; {FIX}"
            )
        if playbooks is not None and manifest.kb_sha256 != kb_digest(playbooks):
            raise StaleIndexError(
                f"the index at {directory} was built from another version of the"
                f" knowledge base; {FIX}"
            )
        for name in DATA_FILES:
            path = directory / name
            if not path.is_file():
                raise CorruptIndexError(f"the index at {directory} lacks {name}; {FIX}")
            try:
                digest = file_sha256(path)
            except OSError as exc:
                raise CorruptIndexError(f"{path} cannot be read ({exc.strerror}); {FIX}") from None
            if manifest.files.get(name) != digest:
                raise CorruptIndexError(
                    f"{path} does not match the manifest (changed or truncated); {FIX}"
                )
        passages = read_passages(directory / PASSAGES)
        if len(passages) != manifest.count:
            raise CorruptIndexError(
                f"{directory / PASSAGES} has {len(passages)} passages,"
                f" the manifest {manifest.count}; {FIX}"
            )
        lexical = BM25Index.load(directory / LEXICAL)
        if lexical.doc_ids != [p.passage_id for p in passages]:
            raise CorruptIndexError(
                f"{directory / LEXICAL} does not index the passages of {PASSAGES}; {FIX}"
            )
        return cls(directory, manifest, passages, lexical)

    def passage(self, passage_id: str) -> Passage:
        return self._by_id[passage_id]

    def lexical_search(self, text: str, k: int = 10) -> list[Hit]:
        """BM25 ranking; pure Python, so a lexical-only query never imports faiss or torch."""
        return [
            Hit(hit.doc_id, self._by_id[hit.doc_id].playbook_id, hit.score)
            for hit in self.lexical.search(text, k)
        ]

    def dense_search(self, query_vector: np.ndarray, k: int = 10) -> list[Hit]:
        """Cosine ranking of a unit query vector (from the embedder named in the manifest)."""
        vector = np.ascontiguousarray(query_vector, dtype=np.float32).reshape(1, -1)
        if vector.shape[1] != self.manifest.dimension:
            raise ValueError(
                f"query vector has dimension {vector.shape[1]}, the index {self.manifest.dimension}"
            )
        index = self._faiss_index()
        k = min(k, len(self.passages))
        if k <= 0:
            return []
        scores, ids = index.search(vector, k)
        return [
            Hit(self.passages[i].passage_id, self.passages[i].playbook_id, float(score))
            for score, i in zip(scores[0], ids[0], strict=True)
            if i >= 0
        ]

    def centroid_search(self, query_vector: np.ndarray) -> list[tuple[str, float]]:
        """Cosine of a unit query vector to every playbook's centroid, best first.

        A centroid is the normalised mean of a playbook's passage vectors: it scores the
        playbook as a whole, so a paraphrase that is near no single passage can still be
        near the playbook it belongs to.
        """
        playbook_ids, centroids = self._centroids()
        vector = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != centroids.shape[1]:
            raise ValueError(
                f"query vector has dimension {vector.shape[0]}, the index {centroids.shape[1]}"
            )
        scores = centroids @ vector
        order = np.argsort(-scores, kind="stable")
        return [(playbook_ids[i], float(scores[i])) for i in order]

    def _centroids(self) -> tuple[list[str], np.ndarray]:
        with self._lock:
            if self._centroid_matrix is None:
                vectors = read_embeddings(
                    self.directory / EMBEDDINGS, len(self.passages), self.manifest.dimension
                )
                ids, owner = np.unique([p.playbook_id for p in self.passages], return_inverse=True)
                matrix = np.stack([vectors[owner == i].mean(axis=0) for i in range(len(ids))])
                matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
                self._centroid_matrix = (ids.tolist(), matrix.astype(np.float32))
            return self._centroid_matrix

    def _faiss_index(self) -> Any:
        with self._lock:
            if self._dense is None:
                import faiss

                path = self.directory / FAISS
                try:
                    index = faiss.read_index(str(path))
                except RuntimeError as exc:
                    raise CorruptIndexError(
                        f"{path} is unreadable ({str(exc).splitlines()[0]}); {FIX}"
                    ) from None
                if index.ntotal != len(self.passages) or index.d != self.manifest.dimension:
                    raise CorruptIndexError(
                        f"{path} holds {index.ntotal} vectors of dimension {index.d}, expected "
                        f"{len(self.passages)} of {self.manifest.dimension}; {FIX}"
                    )
                self._dense = index
            return self._dense

    def verify_dense(self) -> None:
        """Open the FAISS index now (it is otherwise opened by the first dense query)."""
        self._faiss_index()

    @property
    def size_bytes(self) -> int:
        return sum((self.directory / name).stat().st_size for name in (MANIFEST, *DATA_FILES))


def ensure_index(
    directory: Path | str | None = None,
    playbooks: Sequence[Playbook] | None = None,
    embedder_factory: Callable[[], Embedder] | None = None,
) -> IndexBundle:
    """Load the index, building it first when it is missing, stale or corrupt.

    A stale index is rebuilt incrementally (unchanged passages keep their vectors); a
    corrupt one from scratch. Either way a one-line note on stderr says why.
    """
    from migfix.indexer.build import build_index

    directory = Path(directory) if directory is not None else default_index_dir()
    playbooks = tuple(playbooks) if playbooks is not None else load_playbooks()
    if embedder_factory is None:
        from migfix.indexer.embed import SentenceTransformerEmbedder

        embedder_factory = SentenceTransformerEmbedder
    embedder = embedder_factory()
    try:
        return IndexBundle.load(directory, playbooks, model_name=embedder.name)
    except IndexMissingError:
        print(f"migfix: no index at {directory}; building it (once).", file=sys.stderr)
        reuse = False
    except StaleIndexError as exc:
        print(f"migfix: {_reason(exc)}; rebuilding it.", file=sys.stderr)
        reuse = True
    except CorruptIndexError as exc:
        print(f"migfix: {_reason(exc)}; rebuilding it from scratch.", file=sys.stderr)
        reuse = False
    build_index(playbooks, directory, embedder, progress=True, reuse=reuse)
    return IndexBundle.load(directory, playbooks, model_name=embedder.name)


def _reason(exc: Exception) -> str:
    """The error message without its "run `migfix index`" advice (we are doing just that)."""
    return str(exc).removesuffix(f"; {FIX}")
