"""``migfix index``: build the search index from the knowledge base.

Exit codes: 0 built, 2 on errors (unreadable playbooks, unwritable directory), each
reported on one line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from migfix.indexer.errors import MigfixError


@click.command("index")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    help="Index directory (default: $MIGFIX_INDEX_DIR or the user cache).",
)
@click.option(
    "--kb",
    "kb_dir",
    type=click.Path(path_type=Path),
    help="Playbook directory (default: the installed knowledge base).",
)
@click.option(
    "--force", is_flag=True, help="Embed every passage again instead of reusing unchanged vectors."
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest, size and time as JSON.")
def index(
    directory: Path | None, kb_dir: Path | None, force: bool, quiet: bool, as_json: bool
) -> None:
    """Build the search index (passages, BM25, embeddings) from the knowledge base."""
    from migfix.indexer.build import build_index
    from migfix.indexer.embed import SentenceTransformerEmbedder
    from migfix.indexer.playbook import load_playbooks
    from migfix.indexer.store import IndexBundle, default_index_dir

    directory = directory or default_index_dir()
    started = time.perf_counter()
    try:
        if kb_dir is not None and not kb_dir.is_dir():
            raise MigfixError(f"{kb_dir}: no such directory")
        playbooks = load_playbooks(kb_dir)
        embedder = SentenceTransformerEmbedder()
        manifest = build_index(
            playbooks, directory, embedder, progress=not (quiet or as_json), reuse=not force
        )
        size = IndexBundle.load(directory, playbooks, model_name=embedder.name).size_bytes
    except (MigfixError, OSError) as exc:
        click.echo(f"migfix index: {exc}", err=True)
        raise SystemExit(2) from None
    seconds = time.perf_counter() - started
    if as_json:
        report = {
            "directory": str(directory),
            "size_bytes": size,
            "seconds": round(seconds, 3),
            **manifest.to_dict(),
        }
        click.echo(json.dumps(report, indent=2))
    elif not quiet:
        click.echo(
            f"Indexed {manifest.count} passages from {manifest.playbooks} playbooks"
            f" into {directory}: "
            f"{size / 1024:.1f} KiB, {seconds:.1f} s "
            f"({manifest.embedded} embedded, {manifest.reused} reused)."
        )
