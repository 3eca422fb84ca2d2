"""Evaluate the explain engine on the labelled cases of tests/eval/cases/.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval.py [--calibrate] [--no-semantic] [--without-test]

A case is ``tests/eval/cases/<label>/<name>.txt``; the folder names the playbook id
(``none`` for text that is not a migration problem). Prints top-1 and top-3 accuracy on
the positives, the share of negatives answered ``no_match``, the misses with what was
answered instead, and timings. ``--calibrate`` refits the hybrid confidence on the cases
that no signature decides and prints weights and a threshold sweep for server/match.py.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CASES = Path(__file__).resolve().parent.parent / "tests" / "eval" / "cases"


@dataclass(frozen=True)
class Case:
    label: str
    name: str
    text: str


@dataclass
class Report:
    positives: int = 0
    negatives: int = 0
    top1: int = 0
    top3: int = 0
    rejected: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # label, case, answered
    false_matches: list[tuple[str, str]] = field(default_factory=list)  # case, answered
    routes: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # [top-1, top-3, total]
    negatives_by_kind: dict[str, list[int]] = field(default_factory=dict)  # [no_match, total]
    times_ms: dict[str, list[float]] = field(default_factory=dict)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.positives if self.positives else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.positives if self.positives else 0.0

    @property
    def negative_rate(self) -> float:
        return self.rejected / self.negatives if self.negatives else 0.0


def load_cases(root: Path = CASES, labels: set[str] | None = None) -> list[Case]:
    """Every case whose label is a known playbook id or ``none``."""
    cases = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if labels is not None and folder.name not in labels and folder.name != "none":
            continue
        for path in sorted(folder.glob("*.txt")):
            cases.append(
                Case(folder.name, path.name, path.read_text(encoding="utf-8", errors="replace"))
            )
    return cases


def evaluate(engine: object, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        answer = engine.explain(case.text)  # type: ignore[attr-defined]
        route = answer.signals.get("route", "none")
        report.routes[route] += 1
        report.times_ms.setdefault(route, []).append(answer.timings.get("total_ms", 0.0))
        got = answer.playbook.id if answer.status == "matched" and answer.playbook else "none"
        if case.label == "none":
            report.negatives += 1
            tally = report.negatives_by_kind.setdefault(case_kind(case), [0, 0])
            tally[0] += answer.status == "no_match"
            tally[1] += 1
            if answer.status == "no_match":
                report.rejected += 1
            else:
                report.false_matches.append((case.name, got))
            continue
        report.positives += 1
        ranked = ([got] if got != "none" else []) + [a.id for a in answer.alternatives]
        tally = report.by_kind.setdefault(case_kind(case), [0, 0, 0])
        tally[0] += got == case.label
        tally[1] += case.label in ranked[:3]
        tally[2] += 1
        if got == case.label:
            report.top1 += 1
        else:
            report.misses.append(
                (case.label, case.name, got if got != "none" else f"no_match {ranked[:3]}")
            )
        if case.label in ranked[:3]:
            report.top3 += 1
    return report


def case_kind(case: Case) -> str:
    """question-*, ci-*, partial-* are ours; other files are real runs by the KB writers.

    ``question-heldout-*`` and ``question-test-*`` were written by two people who never read
    the KB. The held-out set has been looked at while tuning (it is the validation set); the
    test set is never looked at case by case and never used to fit the calibration: it is
    the honest figure for how well plain questions generalise.
    """
    if case.name.startswith("question-heldout-"):
        return "held-out question"
    if case.name.startswith("question-test-"):
        return "test question"
    prefix = case.name.split("-", 1)[0]
    return prefix if prefix in ("question", "ci", "partial") else "real run"


def without_test(cases: list[Case]) -> list[Case]:
    return [case for case in cases if case_kind(case) != "test question"]


def print_report(report: Report, seconds: float) -> None:
    print(f"cases: {report.positives} positives, {report.negatives} negatives ({seconds:.1f} s)")
    print(f"top-1: {report.top1_rate:.3f} ({report.top1}/{report.positives})")
    print(f"top-3: {report.top3_rate:.3f} ({report.top3}/{report.positives})")
    print(
        f"negatives answered no_match: {report.negative_rate:.3f}"
        f" ({report.rejected}/{report.negatives})"
    )
    for kind, (right, top3, total) in sorted(report.by_kind.items()):
        print(
            f"  {kind} cases: top-1 {right / total:.3f} ({right}/{total}),"
            f" top-3 {top3 / total:.3f} ({top3}/{total})"
        )
    for kind, (kept_out, total) in sorted(report.negatives_by_kind.items()):
        print(f"  no_match on {kind} negatives: {kept_out / total:.3f} ({kept_out}/{total})")
    print("routes: " + ", ".join(f"{k} {v}" for k, v in sorted(report.routes.items())))
    for route, times in sorted(report.times_ms.items()):
        p95 = sorted(times)[max(0, math.ceil(0.95 * len(times)) - 1)]
        print(
            f"time per case ({route}): median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"
        )
    if report.misses:
        print("\nmisses (label <- case: answered):")
        for label, name, got in report.misses:
            print(f"  {label} <- {name}: {got}")
    if report.false_matches:
        print("\nnegatives matched to a playbook:")
        for name, got in report.false_matches:
            print(f"  none <- {name}: {got}")


def calibrate(engine: object, cases: list[Case]) -> None:
    """Fit the logistic calibration on cases that reach retrieval; print weights and a sweep.

    The blind test questions are never used here: they would stop being a test.
    """
    import numpy as np

    from migfix.server.match import FEATURES, calibrated, hybrid_features, retrieval_query
    from migfix.server.match import STRICT_THRESHOLD as STRICT
    from migfix.server.parse import parse

    matcher = engine.matcher  # type: ignore[attr-defined]
    rows: list[tuple[dict[str, float], int, bool, bool, bool]] = []
    for case in without_test(cases):
        parsed = parse(case.text)
        if matcher.signatures.hits(parsed.text):
            continue
        rankings = matcher.retriever.rank(retrieval_query(parsed))
        fused = rankings.fused()
        if not fused:
            continue
        top = fused[0][0]
        strict = not parsed.is_question and not parsed.mentions_migrations
        heldout = case_kind(case) == "held-out question"
        features = hybrid_features(rankings, top, parsed)
        rows.append((features, int(top == case.label), case.label == "none", strict, heldout))

    def fit(subset: list[tuple[dict[str, float], int, bool, bool, bool]]) -> dict[str, float]:
        x = np.array([[r[0][n] for n in FEATURES] for r in subset])
        y = np.array([r[1] for r in subset], dtype=float)
        w = np.zeros(len(FEATURES))
        b = 0.0
        for _ in range(20000):  # plain gradient descent with a little L2: a few features
            p = 1 / (1 + np.exp(-(x @ w + b)))
            w -= 1.0 * (x.T @ (p - y) / len(y) + 0.001 * w)
            b -= 1.0 * float(np.mean(p - y))
        fitted = {n: round(float(v), 2) for n, v in zip(FEATURES, w, strict=True)}
        return {"bias": round(b, 2), **fitted}

    # Out-of-fold confidences (5 folds): each case is scored by weights fitted without it,
    # so the sweep below estimates how the threshold behaves on questions nobody fitted.
    folds = 5
    out_of_fold: list[float] = [0.0] * len(rows)
    for fold in range(folds):
        weights = fit([r for i, r in enumerate(rows) if i % folds != fold])
        for i, row in enumerate(rows):
            if i % folds == fold:
                out_of_fold[i] = calibrated(row[0], weights)
    print(f"{len(rows)} cases reach retrieval ({sum(1 for r in rows if not r[2])} positives)")
    print("CALIBRATION =", fit(rows), " (fitted on all of them, test questions excepted)")
    subsets = (("all", lambda r: True), ("held-out questions", lambda r: r[4]))
    for title, keep in subsets:
        print(f"\n{title}, out of fold:")
        print("threshold  answered-right  answered-wrong  negatives-kept-out  negatives")
        for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8):
            right = wrong = kept_out = negatives = 0
            for row, confidence in zip(rows, out_of_fold, strict=True):
                if not keep(row):
                    continue
                _, correct, negative, strict, _ = row
                answered = confidence >= (max(threshold, STRICT) if strict else threshold)
                if negative:
                    negatives += 1
                    kept_out += not answered
                elif answered:
                    right += correct
                    wrong += not correct
            print(f"{threshold:9.2f}  {right:14d}  {wrong:14d}  {kept_out:18d}  {negatives:9d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--no-semantic", action="store_true")
    parser.add_argument(
        "--without-test",
        action="store_true",
        help="leave out the blind test questions (question-test-*), for tuning",
    )
    args = parser.parse_args(argv)
    from migfix.server.explain import Engine

    engine = Engine.load(semantic=not args.no_semantic)
    cases = load_cases(labels=set(engine.playbooks))
    skipped = sorted(
        {p.name for p in CASES.iterdir() if p.is_dir()} - set(engine.playbooks) - {"none"}
    )
    if skipped:
        print(f"skipped case folders without a playbook yet: {', '.join(skipped)}", file=sys.stderr)
    engine.warm()
    if args.without_test:
        cases = without_test(cases)
    if args.calibrate:
        calibrate(engine, cases)
        return 0
    started = time.perf_counter()
    report = evaluate(engine, cases)
    print_report(report, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
