"""Floors on the evaluation set: run the real engine (model, index) over every case.

The numbers and the command that prints them (``python bench/eval.py``) are in the README.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from migfix.server.explain import Engine

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "eval" / "cases"


def bench_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migfix_bench_eval", ROOT / "bench" / "eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_set_is_large_and_labelled_with_known_ids() -> None:
    from migfix.indexer.taxonomy import TAXONOMY_IDS

    cases = list(CASES.glob("*/*.txt"))
    assert len(cases) >= 200
    assert len(list((CASES / "none").glob("*.txt"))) >= 40
    assert {p.parent.name for p in cases} <= set(TAXONOMY_IDS) | {"none"}


@pytest.fixture(scope="module")
def reports() -> dict[str, object]:
    """The engine over the development cases, and over the held-out questions apart."""
    module = bench_eval()
    engine = Engine.load()
    engine.warm()
    cases = module.load_cases(CASES, labels=set(engine.playbooks))
    heldout = [c for c in cases if module.case_kind(c) == "held-out question"]
    development = [c for c in cases if c not in heldout]
    return {
        "all": module.evaluate(engine, cases),
        "development": module.evaluate(engine, development),
        "held-out": module.evaluate(engine, heldout),
    }


def _summary(report) -> str:
    return (
        f"top-1 {report.top1_rate:.3f}, top-3 {report.top3_rate:.3f}, "
        f"negatives {report.negative_rate:.3f}; misses {report.misses}; "
        f"false {report.false_matches}"
    )


@pytest.mark.model
@pytest.mark.slow
def test_floors_on_the_development_cases(reports) -> None:
    report = reports["development"]

    assert report.positives >= 300, _summary(report)
    assert report.top1_rate >= 0.95, _summary(report)
    assert report.top3_rate >= 0.99, _summary(report)
    assert report.negative_rate >= 0.95, _summary(report)
    assert report.routes["hybrid"] >= 40, _summary(report)  # questions take the semantic path
    right, total = report.by_kind["question"]
    assert total >= 40 and right / total >= 0.9, _summary(report)


@pytest.mark.model
@pytest.mark.slow
def test_floors_on_the_held_out_questions(reports) -> None:
    """Questions written by someone who never read the KB: the honest generalisation figure."""
    report = reports["held-out"]
    wrong = [miss for miss in report.misses if not miss[2].startswith("no_match")]

    assert report.positives >= 70, _summary(report)
    assert report.top1_rate >= 0.70, _summary(report)
    assert report.top3_rate >= 0.95, _summary(report)
    assert len(wrong) / report.positives <= 0.05, _summary(report)
    assert report.negative_rate >= 0.95, _summary(report)


@pytest.mark.model
@pytest.mark.slow
def test_floors_on_everything(reports) -> None:
    report = reports["all"]

    assert report.top1_rate >= 0.94, _summary(report)
    assert report.top3_rate >= 0.985, _summary(report)
    assert report.negative_rate >= 0.95, _summary(report)
