"""Playbooks cut into passages: the units the lexical and dense indexes rank.

A playbook is too long and too mixed to embed as one text, and users paste either an
error message (which the Symptoms read like) or a question (which the summary and the
fix routes answer). So each playbook yields a few focused passages. Fenced blocks keep
their content verbatim: the message text is exactly what users paste.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from migfix.indexer.playbook import Playbook

_md = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Passage:
    """One indexed text; ``passage_id`` is ``<playbook id>#<section>``."""

    passage_id: str
    playbook_id: str
    section: str
    text: str

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def to_dict(self) -> dict[str, str]:
        return {
            "passage_id": self.passage_id,
            "playbook_id": self.playbook_id,
            "section": self.section,
            "text": self.text,
            "text_sha256": self.text_sha256,
        }


def passages_for(playbook: Playbook) -> list[Passage]:
    """``#summary``, ``#symptoms``, ``#why``, one ``#fix-<n>`` per fix route and one
    ``#question-<n>`` per plain-language question (short passages embed sharply)."""

    def make(section: str, text: str) -> Passage:
        return Passage(f"{playbook.id}#{section}", playbook.id, section, text.strip())

    summary = [playbook.title, playbook.summary]
    if playbook.exceptions:
        summary.append("Exceptions: " + ", ".join(playbook.exceptions))
    summary.extend(readable_signature(s) for s in playbook.signatures)
    passages = [make("summary", "\n".join(summary))]
    for section, title in (("symptoms", "Symptoms"), ("why", "Why it happens")):
        found = playbook.section(title)
        if found is not None and found.text.strip():
            passages.append(
                make(section, f"{playbook.title}: {title.lower()}\n{markdown_to_text(found.text)}")
            )
    for n, route in enumerate(playbook.routes, start=1):
        lines = [f"{playbook.title}: fix" + (f", {route.title}" if route.title else "")]
        lines.extend(" ".join(markdown_to_text(step.text).split()) for step in route.steps)
        passages.append(make(f"fix-{n}", "\n".join(lines)))
    for n, question in enumerate(playbook.questions, start=1):
        passages.append(make(f"question-{n}", question))
    return [p for p in passages if p.text]


def passages_for_all(playbooks: list[Playbook] | tuple[Playbook, ...]) -> list[Passage]:
    return [passage for playbook in playbooks for passage in passages_for(playbook)]


def markdown_to_text(source: str) -> str:
    """Plain text of Markdown: inline markup dropped, fenced and indented code kept as is."""
    out: list[str] = []
    for token in _md.parse(source):
        if token.type in ("fence", "code_block"):
            out.append(token.content.rstrip("\n"))
        elif token.type == "inline":
            out.append(_inline_text(token.children or []))
    return "\n".join(line for line in out if line.strip())


def _inline_text(children: list[Any]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


_ESCAPE_CLASSES = set("dDwWsSbBAZntr")


def readable_signature(pattern: str) -> str:
    """A signature regex as the message it matches: groups named, syntax dropped.

    ``no such table: (?P<table>\\w+)`` becomes ``no such table: table``, so that the
    summary passage carries the words of the message without regex noise.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            following = pattern[i + 1]
            out.append(" " if following in _ESCAPE_CLASSES else following)
            i += 2
        elif pattern.startswith("(?P<", i):
            end = pattern.index(">", i)
            out.append(pattern[i + 4 : end])
            i = _group_end(pattern, i)
        elif pattern.startswith("(?", i):
            i = pattern.index(":", i) + 1 if pattern[i + 2] == ":" else _group_end(pattern, i)
        elif char == "[":
            i = _class_end(pattern, i)
        elif char == "{":
            i = pattern.find("}", i) + 1 or len(pattern)
        elif char in "()*+?^$":
            i += 1
        elif char == "|":
            out.append(" / ")
            i += 1
        elif char == "." and pattern[i + 1 : i + 2] in ("*", "+", "?", "{"):
            out.append(" ")
            i += 1
        else:
            out.append(char)
            i += 1
    return " ".join("".join(out).split())


def _class_end(pattern: str, start: int) -> int:
    """Index after the ``]`` that closes the character class opened at *start*."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _group_end(pattern: str, start: int) -> int:
    """Index after the ``)`` that closes the group opened at *start*."""
    depth = 0
    i = start
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)
