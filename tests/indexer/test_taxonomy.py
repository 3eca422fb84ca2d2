from __future__ import annotations

from pathlib import Path

import pytest

from migfix.indexer.taxonomy import NO_MATCH_ID, TAXONOMY_IDS, ids_in_taxonomy_file

TAXONOMY_FILE = Path(__file__).resolve().parents[3] / "shared" / "kb-taxonomy.md"


@pytest.mark.skipif(not TAXONOMY_FILE.exists(), reason=f"{TAXONOMY_FILE} is not on this machine")
def test_the_id_list_matches_the_taxonomy_file():
    assert ids_in_taxonomy_file(TAXONOMY_FILE) == TAXONOMY_IDS


def test_ids_are_unique_and_none_is_not_one_of_them():
    assert len(set(TAXONOMY_IDS)) == len(TAXONOMY_IDS) == 24
    assert NO_MATCH_ID not in TAXONOMY_IDS
