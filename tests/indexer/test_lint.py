"""Each lint rule, proven by a fixture playbook that breaks it and a valid one that does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from migfix.indexer.lint import RULES, LintError, lint_directory
from migfix.indexer.taxonomy import TAXONOMY_IDS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kb"
ROOT = Path(__file__).resolve().parents[2]

#: fixture directory under broken/ -> the rules it must trip (and no others)
BROKEN = {
    "front-matter": {"front-matter"},
    "id-stem": {"id-stem"},
    "duplicate-id": {"duplicate-id", "id-stem"},
    "reserved-id": {"reserved-id"},
    "category": {"category"},
    "backends": {"backends"},
    "sections-order": {"sections"},
    "sections-missing": {"sections"},
    "sections-duplicate": {"sections"},
    "sections-unknown": {"sections"},
    "symptoms-example": {"symptoms-example"},
    "signature": {"signature"},
    "fix-steps": {"fix-steps"},
    "fix-steps-route": {"fix-steps"},
    "risk-tag": {"risk-tag"},
    "applies-when": {"applies-when"},
    "placeholder": {"placeholder"},
    "confirmed-by": {"confirmed-by"},
    "related": {"related"},
    "destructive-first": {"destructive-first", "destructive-backup"},
    "destructive-precondition": {"destructive-precondition"},
    "destructive-backup": {"destructive-backup"},
    "example-unmatched": {"example-unmatched"},
    "example-shadowed": {"example-shadowed"},
}


def _rules(errors: list[LintError]) -> set[str]:
    return {error.rule for error in errors}


def test_the_valid_fixtures_are_clean():
    assert lint_directory(FIXTURES / "valid", coverage=False) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_fixture_trips_exactly_its_rule(case):
    errors = lint_directory(FIXTURES / "broken" / case, coverage=False)

    assert _rules(errors) == BROKEN[case], "\n".join(map(str, errors))


def test_every_rule_except_coverage_has_a_broken_fixture():
    covered = set().union(*BROKEN.values())

    assert set(RULES) - covered == {"coverage"}


def test_errors_point_at_the_offending_line():
    (risk,) = lint_directory(FIXTURES / "broken" / "risk-tag", coverage=False)
    (placeholder,) = lint_directory(FIXTURES / "broken" / "placeholder", coverage=False)
    (shadowed,) = lint_directory(FIXTURES / "broken" / "example-shadowed", coverage=False)

    def line(error: LintError) -> str:
        return error.path.read_text().split("\n")[error.line - 1]

    assert line(risk).startswith("1. Apply the migrations")
    assert "<app_name>" in line(placeholder)
    assert line(shadowed).startswith("```")
    assert "fixture-greedy" in shadowed.message


def test_coverage_lists_every_missing_taxonomy_id():
    errors = lint_directory(FIXTURES / "valid", coverage=True)

    assert _rules(errors) == {"coverage"}
    assert sorted(e.path.stem for e in errors) == sorted(TAXONOMY_IDS)


def test_a_missing_directory_is_an_error():
    with pytest.raises(FileNotFoundError):
        lint_directory(FIXTURES / "no-such-dir")


def test_the_real_kb_is_clean_without_coverage():
    errors = lint_directory(ROOT / "kb", coverage=False)

    assert errors == [], "\n".join(map(str, errors))


def test_the_real_kb_covers_the_whole_taxonomy():
    """Passes once every taxonomy id has a playbook (the KB is being written)."""
    errors = lint_directory(ROOT / "kb", coverage=True)

    assert errors == [], "\n".join(map(str, errors))
