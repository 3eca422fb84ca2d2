"""Deterministic signature matching: the playbooks' own regexes against pasted text.

Like an error tracker's fingerprints, signatures come first and are exact. When several
playbooks match, the one whose signature covers more of the text wins: a signature
written for a specific variant of a message (``admin.0001_initial is applied before its
dependency accounts.0001_initial``) is longer than the generic one and so outranks it.
This is the one place that scores signatures; the linter and the explain engine both use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from migfix.indexer.playbook import Playbook


@dataclass(frozen=True)
class SignatureHit:
    playbook_id: str
    pattern: str
    span: int
    groups: dict[str, str] = field(default_factory=dict)


class SignatureSet:
    """The compiled signatures of a set of playbooks."""

    def __init__(self, playbooks: Iterable[Playbook]):
        self._compiled: list[tuple[str, re.Pattern[str]]] = [
            (playbook.id, pattern)
            for playbook in playbooks
            for pattern in playbook.compiled_signatures()
        ]

    def hits(self, text: str) -> list[SignatureHit]:
        """The best hit per playbook, most specific first."""
        best: dict[str, SignatureHit] = {}
        for playbook_id, pattern in self._compiled:
            for found in pattern.finditer(text):
                span = found.end() - found.start()
                if span == 0:
                    continue
                groups = {k: v for k, v in found.groupdict().items() if v}
                current = best.get(playbook_id)
                if current is None or span > current.span:
                    best[playbook_id] = SignatureHit(playbook_id, pattern.pattern, span, groups)
        return sorted(best.values(), key=lambda hit: (-hit.span, hit.playbook_id))
