"""Build an index directory from playbooks, atomically and incrementally.

Embedding is the only slow step, so a rebuild reuses the stored vector of every passage
whose text (sha256) and model are unchanged: editing one playbook re-embeds a handful of
passages. The new index is written to a temporary directory beside the target and
swapped in with renames, so a reader sees the old index or the new one, never a mix.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from migfix.indexer.embed import Embedder
from migfix.indexer.errors import IndexTargetError, MigfixError
from migfix.indexer.lexical import BM25Index
from migfix.indexer.passages import Passage, passages_for_all
from migfix.indexer.playbook import Playbook, kb_digest
from migfix.indexer.store import (
    DATA_FILES,
    EMBEDDINGS,
    FAISS,
    FORMAT,
    LEXICAL,
    MANIFEST,
    PASSAGES,
    Manifest,
    file_sha256,
    read_embeddings,
    read_manifest,
    read_passages,
)


def build_index(
    playbooks: Sequence[Playbook],
    out_dir: Path | str,
    embedder: Embedder,
    progress: bool = True,
    reuse: bool = True,
) -> Manifest:
    """Write the index for *playbooks* to *out_dir*; with *reuse*, keep unchanged vectors."""
    out_dir = Path(out_dir)
    # Fail on an unwritable target before spending time on embeddings.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(out_dir):
        _refuse_foreign_target(out_dir)
        return _build(tuple(playbooks), out_dir, embedder, progress=progress, reuse=reuse)


@contextmanager
def _build_lock(out_dir: Path) -> Iterator[None]:
    """One builder per index directory at a time (replicas starting together, or a
    ``migfix index`` during a service's first build); the second one then reuses the
    first one's vectors. Readers never take it."""
    with (out_dir.parent / f".{out_dir.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _refuse_foreign_target(out_dir: Path) -> None:
    """The swap replaces *out_dir* wholesale, so it must hold nothing but index files."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise IndexTargetError(f"{out_dir} is a file, not an index directory; choose another --dir")
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in (MANIFEST, *DATA_FILES))
    if foreign:
        raise IndexTargetError(
            f"{out_dir} holds other files ({', '.join(foreign[:3])}...), not a migfix index; "
            "choose an empty or new --dir"
        )


def _build(
    playbooks: tuple[Playbook, ...],
    out_dir: Path,
    embedder: Embedder,
    *,
    progress: bool,
    reuse: bool,
) -> Manifest:
    import faiss

    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide a shared (CI-built) index from the service
        passages = passages_for_all(playbooks)
        dimension = embedder.dimension
        vectors, embedded = _vectors(passages, out_dir, embedder, progress=progress, reuse=reuse)
        _write_passages(staging / PASSAGES, passages)
        np.save(staging / EMBEDDINGS, vectors, allow_pickle=False)
        dense = faiss.IndexFlatIP(dimension)
        if len(passages):
            dense.add(vectors)
        faiss.write_index(dense, str(staging / FAISS))
        BM25Index.build((p.passage_id, p.text) for p in passages).save(staging / LEXICAL)
        manifest = Manifest(
            format=FORMAT,
            migfix_version=_version(),
            model=embedder.name,
            dimension=dimension,
            metric="cosine",
            normalized=True,
            count=len(passages),
            playbooks=len(playbooks),
            kb_sha256=kb_digest(playbooks),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            embedded=embedded,
            reused=len(passages) - embedded,
            files={name: file_sha256(staging / name) for name in DATA_FILES},
        )
        (staging / MANIFEST).write_text(
            json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8"
        )
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _vectors(
    passages: list[Passage], out_dir: Path, embedder: Embedder, *, progress: bool, reuse: bool
) -> tuple[np.ndarray, int]:
    """One unit vector per passage, and how many had to be embedded (not reused)."""
    known = previous_vectors(out_dir, embedder.name, embedder.dimension) if reuse else {}
    todo = [p for p in passages if p.text_sha256 not in known]
    if todo:
        fresh = embedder.encode_documents([p.text for p in todo], progress=progress)
        known.update({p.text_sha256: vector for p, vector in zip(todo, fresh, strict=True)})
    vectors = np.zeros((len(passages), embedder.dimension), dtype=np.float32)
    for n, passage in enumerate(passages):
        vectors[n] = known[passage.text_sha256]
    return vectors, len(todo)


def previous_vectors(directory: Path, model: str, dimension: int) -> dict[str, np.ndarray]:
    """text_sha256 -> vector from an existing index built by the same model, else nothing.

    Anything unreadable means nothing to reuse: a rebuild must never fail because the
    index it replaces is damaged.
    """
    try:
        manifest = read_manifest(directory)
        if manifest.model != model or manifest.dimension != dimension:
            return {}
        passages = read_passages(directory / PASSAGES)
        vectors = read_embeddings(directory / EMBEDDINGS, len(passages), dimension)
    except (MigfixError, OSError):
        return {}
    return {p.text_sha256: vectors[n] for n, p in enumerate(passages)}


def _write_passages(path: Path, passages: list[Passage]) -> None:
    with path.open("w", encoding="utf-8") as stream:
        for passage in passages:
            stream.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")


def _swap_in(staging: Path, target: Path) -> None:
    """Replace *target* by *staging* with renames (a directory cannot be os.replace'd over)."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _version() -> str:
    try:
        return metadata.version("migfix")
    except metadata.PackageNotFoundError:
        return "unknown"
