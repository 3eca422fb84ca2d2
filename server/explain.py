"""The explain engine: parse, match, compose, with the timings of each stage.

One :class:`Engine` serves the CLI, the JSON API, the web chat and Slack. It loads the
playbooks once; the index and the embedding model are loaded only when a paste needs
them (the signature fast path never does), or eagerly with :meth:`Engine.warm` in a
server, where the first user should not wait for torch.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from migfix.checker.findings import Finding
from migfix.indexer.playbook import Playbook, load_playbooks
from migfix.server.answer import Answer, PlaybookRef
from migfix.server.compose import compose
from migfix.server.match import Matcher, MatchResult, Retriever
from migfix.server.parse import Parsed, parse


class Engine:
    """Loaded once, then ``explain`` is safe to call from many threads."""

    def __init__(self, playbooks: dict[str, Playbook], retriever: Retriever | None):
        self.playbooks = playbooks
        self.matcher = Matcher(playbooks, retriever)

    @classmethod
    def load(
        cls,
        *,
        playbooks: tuple[Playbook, ...] | list[Playbook] | dict[str, Playbook] | None = None,
        index_dir: Path | str | None = None,
        semantic: bool = True,
    ) -> Engine:
        if playbooks is None:
            playbooks = load_installed_playbooks()
        by_id = dict(playbooks) if isinstance(playbooks, dict) else {p.id: p for p in playbooks}
        retriever = Retriever(
            by_id.values(), Path(index_dir) if index_dir else None, semantic=semantic
        )
        return cls(by_id, retriever)

    def warm(self) -> None:
        """Load the index and the embedding model now rather than on the first question."""
        retriever = self.matcher.retriever
        if retriever is not None:
            retriever.bundle()
            if retriever.semantic:
                retriever.embedder().encode_query("warm up")

    def explain(
        self,
        text: str | bytes,
        *,
        findings: list[Finding] | None = None,
        report: Mapping[str, Any] | None = None,
    ) -> Answer:
        """Answer one paste; raise InputError (one line) for text that cannot be read.

        *findings* and *report* (``Report.to_dict()``) come from the checker, when a
        project is known: they choose the route and fill the project's names.
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()
        parsed = parse(text)
        timings["parse_ms"] = _ms(started)
        mark = time.perf_counter()
        result = self.matcher.match(parsed)
        timings["match_ms"] = _ms(mark)
        mark = time.perf_counter()
        answer = self._answer(parsed, result, findings or [], report)
        timings["compose_ms"] = _ms(mark)
        timings["total_ms"] = _ms(started)
        answer.timings = timings
        answer.signals["route"] = result.route
        return answer

    def _answer(
        self,
        parsed: Parsed,
        result: MatchResult,
        findings: list[Finding],
        report: Mapping[str, Any] | None = None,
    ) -> Answer:
        refs = [
            PlaybookRef(c.playbook_id, self.playbooks[c.playbook_id].title, c.confidence)
            for c in result.candidates
            if c.playbook_id in self.playbooks
        ]
        best = result.best
        if result.decided and best is not None and best.playbook_id in self.playbooks:
            return compose(
                self.playbooks[best.playbook_id],
                best,
                parsed,
                alternatives=refs[1:4],
                findings=findings,
                message=result.reason,
                report=report,
            )
        return Answer(
            status="no_match",
            message=_no_match_message(parsed, result),
            alternatives=refs[:3],
            signals=parsed.signals(),
            other_findings=[f.to_dict() for f in findings],
        )


def load_installed_playbooks() -> tuple[Playbook, ...]:
    """The installed KB, from a cache keyed by the files' content when it is current.

    Parsing 24 playbooks (YAML and Markdown) takes a quarter of a second, half the
    budget of a cold ``migfix explain``; unpickling them takes a few milliseconds.
    """
    files = sorted(
        (f for f in resources.files("migfix.kb").iterdir() if f.name.endswith(".md")),
        key=lambda f: f.name,
    )
    digest = hashlib.sha256(" ".join(Playbook.__dataclass_fields__).encode())  # the model's shape
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "migfix"
    cache = cache_root / f"playbooks-{digest.hexdigest()[:20]}.pickle"
    try:
        cached: tuple[Playbook, ...] = pickle.loads(cache.read_bytes())
        return cached
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, TypeError):
        pass
    playbooks = load_playbooks()
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(playbooks))
        partial.replace(cache)
    except OSError:
        pass  # a read-only home only costs the parse next time
    return playbooks


def _no_match_message(parsed: Parsed, result: MatchResult) -> str:
    recognised = []
    if parsed.final:
        recognised.append(f"a {parsed.final.name}")
    if parsed.outputs:
        recognised.append(" and ".join(parsed.outputs) + " output")
    what = ", ".join(recognised) if recognised else "no Django error or command output"
    return (
        "No confident match: this does not look like a known Django migration problem"
        f" ({what}; {result.reason})."
    )


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


_default: Engine | None = None


def explain_text(text: str | bytes, **kw: Any) -> Answer:
    """Explain with a process-wide default engine (loaded on first use)."""
    global _default
    if _default is None:
        _default = Engine.load()
    return _default.explain(text, **kw)
