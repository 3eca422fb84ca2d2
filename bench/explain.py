"""Latency of ``migfix explain``: cold (a new process) and warm (a loaded engine).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/explain.py [--runs 5]

Two inputs: a traceback that a signature decides (the fast path, which must not import
torch) and a plain-language question (the semantic path: index, model, FAISS). The index
is built beforehand, so cold times measure answering, not the one-off build.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNATURE_CASE = ROOT / "examples" / "conflicting-leaf-nodes.txt"
SEMANTIC_CASE = "two of us both made 0003 in the orders app, how do I merge them?"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
PROBE = (
    "import sys, time\n"
    "from migfix.cli.main import cli\n"
    "try:\n"
    "    cli(['explain', '--json', sys.argv[1]])\n"
    "except SystemExit:\n"
    "    pass\n"
    "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)\n"
)


def cold(path: Path, runs: int) -> tuple[list[float], bool]:
    """Wall time of a whole new ``python -c`` process running ``migfix explain``."""
    times = []
    torch = False
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, str(path)], capture_output=True, env=ENV, check=False
        )
        times.append(time.perf_counter() - started)
        torch = torch or b"NO-TORCH" not in proc.stderr
    return times, torch


def warm(text: str, runs: int) -> list[float]:
    from migfix.server.explain import Engine

    engine = Engine.load()
    engine.warm()
    engine.explain(text)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.explain(text)
        times.append(time.perf_counter() - started)
    return times


def line(name: str, times: list[float]) -> str:
    median, fastest = statistics.median(times) * 1000, min(times) * 1000
    return f"{name:34s} median {median:7.0f} ms   min {fastest:7.0f} ms   (n={len(times)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    semantic_file = Path(os.environ.get("TMPDIR", "/tmp")) / "migfix-bench-question.txt"
    semantic_file.write_text(SEMANTIC_CASE + "\n")
    subprocess.run(
        [sys.executable, "-c", PROBE, str(semantic_file)], capture_output=True, env=ENV
    )  # builds the index once
    sig_times, sig_torch = cold(SIGNATURE_CASE, args.runs)
    sem_times, sem_torch = cold(semantic_file, max(2, args.runs // 2))
    print(line("cold, signature (new process)", sig_times) + f"   torch imported: {sig_torch}")
    print(line("cold, semantic (new process)", sem_times) + f"   torch imported: {sem_torch}")
    print(line("warm, signature (loaded engine)", warm(SIGNATURE_CASE.read_text(), args.runs * 4)))
    print(line("warm, semantic (loaded engine)", warm(SEMANTIC_CASE, args.runs * 4)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
