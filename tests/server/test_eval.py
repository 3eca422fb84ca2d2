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


@pytest.mark.model
@pytest.mark.slow
def test_floors() -> None:
    module = bench_eval()
    engine = Engine.load()
    engine.warm()
    report = module.evaluate(engine, module.load_cases(CASES, labels=set(engine.playbooks)))
    summary = (
        f"top-1 {report.top1_rate:.3f}, top-3 {report.top3_rate:.3f}, "
        f"negatives {report.negative_rate:.3f}; misses {report.misses}; "
        f"false {report.false_matches}"
    )
    assert report.positives >= 150, summary
    assert report.top1_rate >= 0.95, summary
    assert report.top3_rate >= 0.99, summary
    assert report.negative_rate >= 0.95, summary
    assert report.routes["hybrid"] >= 40, summary  # questions take the semantic path
    right, total = report.by_kind["question"]
    assert total >= 40 and right / total >= 0.75, summary
