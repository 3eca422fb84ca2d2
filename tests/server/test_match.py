"""Matching: signature confidence, fusion and the calibrated gate."""

from __future__ import annotations

from pathlib import Path

from migfix.indexer.playbook import load_playbooks
from migfix.server.match import FEATURES, THRESHOLD, Matcher, calibrated, retrieval_query, rrf
from migfix.server.parse import parse

KB = Path(__file__).resolve().parents[2] / "kb"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "conflicting-leaf-nodes.txt"


def matcher() -> Matcher:
    return Matcher({p.id: p for p in load_playbooks(KB)}, retriever=None)


def test_signature_decides_with_high_confidence_and_groups() -> None:
    result = matcher().match(parse(EXAMPLE.read_text()))
    assert result.decided and result.route == "signature"
    best = result.best
    assert best is not None and best.playbook_id == "conflicting-leaf-nodes"
    assert 0.9 <= best.confidence <= 0.99
    assert best.groups["app"] == "orders"


def test_specific_template_is_more_confident_than_a_fragment() -> None:
    full = matcher().match(parse(EXAMPLE.read_text())).best
    fragment = matcher().match(parse("it said multiple leaf nodes in the migration graph")).best
    assert full is not None and fragment is not None
    assert full.confidence > fragment.confidence >= 0.9


def test_without_signature_or_retrieval_nothing_is_decided() -> None:
    result = matcher().match(
        parse("django.template.exceptions.TemplateDoesNotExist: shop/index.html")
    )
    assert not result.decided and result.candidates == []


def test_rrf_rewards_agreement() -> None:
    fused = rrf([[("a", 9.0), ("b", 5.0)], [("b", 0.8), ("a", 0.7), ("c", 0.1)]])
    assert [pid for pid, _ in fused][:2] in (["a", "b"], ["b", "a"])
    assert fused[0][1] == fused[1][1]  # ranks 1+2 each: a tie, broken by id
    assert fused[-1][0] == "c"
    assert rrf([[("x", 1.0)], [("x", 1.0)]])[0][1] > rrf([[("x", 1.0)], [("y", 1.0)]])[0][1]


def test_calibration_is_monotonic_in_evidence() -> None:
    weak = dict.fromkeys(FEATURES, 0.0) | {"dense": 0.3, "centroid": 0.3}
    strong = {
        "dense": 0.7,
        "margin": 0.15,
        "centroid": 0.6,
        "centroid_margin": 0.1,
        "lexical_top": 1.0,
        "lexical_margin": 0.4,
        "schema_words": 1.0,
    }
    assert set(strong) == set(FEATURES)
    assert calibrated(weak) < THRESHOLD < calibrated(strong)
    for name in strong:  # more of any one kind of evidence never lowers the confidence
        assert calibrated({**weak, name: strong[name]}) >= calibrated(weak)


def test_retrieval_query_of_a_traceback_is_its_exceptions() -> None:
    text = (
        'Traceback (most recent call last):\n  File "x.py", line 1\n'
        "ValueError: Related model 'crm.customer' cannot be resolved\n"
    )
    query = retrieval_query(parse(text))
    assert query.startswith("ValueError: Related model 'crm.customer' cannot be resolved")
    assert "File" not in query


CASES = Path(__file__).resolve().parents[1] / "eval" / "cases"


def test_a_migration_only_message_from_application_code_is_not_decided() -> None:
    """Real output: a shell saving a too long value on PostgreSQL, the same message that an
    AlterField shortening max_length raises during migrate."""
    runtime = parse((CASES / "none" / "run-pg-value-too-long-runtime.txt").read_text())
    during_migrate = parse(
        "Running migrations:\n  Applying shop.0002_alter_order_code...Traceback (most recent"
        ' call last):\n  File "/app/manage.py", line 22, in <module>\n'
        "django.db.utils.DataError: value too long for type character varying(20)\n"
    )
    message_alone = parse(
        "django.db.utils.DataError: value too long for type character varying(20)"
    )

    assert runtime.ran_outside_migrations
    result = matcher().match(runtime)
    assert not result.decided
    assert result.best is not None and result.best.playbook_id == "type-cast-error"
    assert "no migration" in result.reason
    for parsed in (during_migrate, message_alone):
        assert not parsed.ran_outside_migrations
        decided = matcher().match(parsed)
        assert decided.decided and decided.best.playbook_id == "type-cast-error"
