from __future__ import annotations

import pytest

from migfix.indexer.errors import CorruptIndexError
from migfix.indexer.lexical import BM25Index, tokenize


def test_identifiers_are_kept_whole_and_split():
    tokens = tokenize(
        "InconsistentMigrationHistory: Migration admin.0001_initial; table django_migrations"
    )

    assert {"inconsistentmigrationhistory", "inconsistent", "migration", "history"} <= set(tokens)
    assert {"admin.0001_initial", "admin", "0001_initial", "0001", "initial"} <= set(tokens)
    assert {"django_migrations", "django", "migrations"} <= set(tokens)
    assert all(token == token.lower() for token in tokens)


def test_a_plain_word_is_one_token():
    assert tokenize("no such table") == ["no", "such", "table"]


DOCS = [
    ("graph", "Conflicting migrations detected; multiple leaf nodes in the migration graph"),
    ("table", 'relation "shop_order" does not exist; no such table: shop_order'),
    (
        "history",
        "InconsistentMigrationHistory: Migration admin.0001_initial is applied before its dependency",
    ),
]


def test_bm25_ranks_the_document_sharing_the_rare_terms_first():
    index = BM25Index.build(DOCS)

    assert index.search("no such table: shop_order", 3)[0].doc_id == "table"
    assert index.search("inconsistent migration history", 3)[0].doc_id == "history"
    assert index.search("leaf nodes", 3)[0].doc_id == "graph"


def test_unknown_terms_find_nothing_and_k_limits_the_result():
    index = BM25Index.build(DOCS)

    assert index.search("kubernetes helm chart", 5) == []
    assert len(index.search("migration", 1)) == 1


def test_scores_fall_with_document_length():
    short = BM25Index.build(
        [("short", "duplicate column"), ("long", "duplicate column " + "filler words " * 30)]
    )

    first, second = short.search("duplicate column", 2)
    assert (first.doc_id, second.doc_id) == ("short", "long")
    assert first.score > second.score > 0


def test_save_and_load_round_trip(tmp_path):
    index = BM25Index.build(DOCS)
    index.save(tmp_path / "lexical.json")

    loaded = BM25Index.load(tmp_path / "lexical.json")

    assert loaded.search("shop_order", 3) == index.search("shop_order", 3)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        '{"format": 1}',
        '{"format": 1, "k1": 1, "b": 1, "doc_ids": ["a"], "lengths": [1], "postings": {"x": [[5, 1]]}}',
    ],
)
def test_a_damaged_file_is_a_corrupt_index(tmp_path, content):
    path = tmp_path / "lexical.json"
    path.write_text(content)

    with pytest.raises(CorruptIndexError, match="migfix index"):
        BM25Index.load(path)
