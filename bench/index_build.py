"""Benchmark: how long building the index takes, cold and warm, and how big it is.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/index_build.py [--kb DIR]

Cold = empty directory in a fresh process, so it includes importing torch and loading
the model; warm = a rebuild that reuses stored vectors (nothing changed, or one playbook
edited). Run it alone: the numbers mean little on a machine busy with other work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from migfix.indexer.build import build_index  # noqa: E402
from migfix.indexer.embed import SentenceTransformerEmbedder  # noqa: E402
from migfix.indexer.playbook import load_playbooks  # noqa: E402
from migfix.indexer.store import IndexBundle  # noqa: E402


def timed_build(
    playbooks, directory: Path, embedder: SentenceTransformerEmbedder
) -> tuple[float, int, int]:
    started = time.perf_counter()
    manifest = build_index(playbooks, directory, embedder, progress=False)
    return time.perf_counter() - started, manifest.count, manifest.embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--kb", type=Path, default=None, help="playbook directory (default: installed KB)"
    )
    args = parser.parse_args()
    playbooks = load_playbooks(args.kb)
    work = Path(tempfile.mkdtemp(prefix="migfix-bench-"))
    try:
        directory = work / "index"
        embedder = SentenceTransformerEmbedder()
        rows = [
            ("cold (import + model load + embed all)", *timed_build(playbooks, directory, embedder))
        ]
        rows.append(("warm, nothing changed", *timed_build(playbooks, directory, embedder)))
        kb = work / "kb"
        kb.mkdir()
        for playbook in playbooks:
            shutil.copy(playbook.path, kb / playbook.path.name)
        edited = kb / playbooks[0].path.name
        edited.write_text(
            edited.read_text().replace("## Why it happens\n", "## Why it happens\n\nEdited.\n", 1)
        )
        rows.append(
            ("warm, one playbook changed", *timed_build(load_playbooks(kb), directory, embedder))
        )
        size = IndexBundle.load(directory).size_bytes
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{len(playbooks)} playbooks, index size {size / 1024:.1f} KiB, {os.cpu_count()} CPUs")
    print(f"{'build':<42}{'seconds':>9}{'passages':>10}{'embedded':>10}")
    for name, seconds, count, embedded in rows:
        print(f"{name:<42}{seconds:>9.2f}{count:>10}{embedded:>10}")


if __name__ == "__main__":
    main()
