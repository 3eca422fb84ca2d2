"""The playbook model: one ``kb/<id>.md`` file parsed into typed parts.

A playbook is YAML front matter followed by fixed H2 sections (see CONTRIBUTING.md).
This module only *reads* the format; :mod:`migfix.indexer.lint` judges it. Parsing is
strict about what it cannot work without (front matter, required keys, types) and
lenient about the rest, so that the linter can report every problem in one run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from markdown_it import MarkdownIt

from migfix.indexer.errors import PlaybookError

Risk = Literal["safe", "caution", "destructive"]
RISKS: tuple[Risk, ...] = ("safe", "caution", "destructive")

SECTIONS: tuple[str, ...] = (
    "Symptoms",
    "Why it happens",
    "Diagnose",
    "Fix",
    "Verify",
    "Prevent",
    "Sources",
)
REQUIRED_KEYS = ("id", "title", "summary", "category", "backends", "signatures")
OPTIONAL_KEYS = ("exceptions", "related", "questions", "migration_only")
CATEGORIES = ("graph", "database")
BACKENDS = ("sqlite", "postgresql", "mysql")

#: Words an ``Applies when:`` clause may use; ``django>=4.1`` style bounds are also allowed.
CONDITIONS = frozenset({"dev", "production", "ci", *BACKENDS})
DJANGO_BOUND = re.compile(r"^django\s*(>=|<|<=|>)\s*\d+\.\d+$")

#: Placeholders that fix-step commands may contain; compose fills them from signals.
PLACEHOLDERS = frozenset(
    {
        "app",
        "migration",
        "dependency_app",
        "dependency",
        "previous",
        "merged",
        "table",
        "column",
        "model",
        "field",
        "constraint",
        "database",
        "settings",
        "squashed",
        "user_app",
    }
)
PLACEHOLDER_RE = re.compile(r"<([a-z_]+)>")

_TAG_RE = re.compile(r"^\[(safe|caution|destructive)\]\s*")
_APPLIES_RE = re.compile(r"\bApplies when:\s*(.+?)(?:\.(?=\s|$)|\n|$)")
_PRECONDITION_RE = re.compile(r"\bPrecondition:\s*(.+?)(?:\.(?:\s|$)|\n\n|$)", re.S)
_CONFIRMED_RE = re.compile(r"^Confirmed by:\s*(.+)$", re.M)
_FRONT_MATTER_RE = re.compile(r"\A---\n(.*?)\n---\n", re.S)

_md = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Section:
    """One H2 section: its title, Markdown source and 1-based line in the file."""

    title: str
    text: str
    line: int
    code_blocks: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixStep:
    """One numbered fix step, e.g. ``[caution] Fake the migration ...``."""

    risk: Risk | None
    text: str
    commands: tuple[str, ...]
    applies_when: tuple[str, ...]
    precondition: str | None
    line: int

    @property
    def command(self) -> str | None:
        return "\n".join(self.commands) if self.commands else None


@dataclass(frozen=True)
class Route:
    """The ordered steps for one cause (an H3 under ``## Fix``, or the whole section)."""

    title: str | None
    confirmed_by: tuple[str, ...]
    steps: tuple[FixStep, ...]
    line: int


@dataclass(frozen=True)
class Playbook:
    id: str
    title: str
    summary: str
    category: str
    backends: tuple[str, ...]
    signatures: tuple[str, ...]
    exceptions: tuple[str, ...]
    related: tuple[str, ...]
    #: How people ask about this problem in plain words; indexed for semantic search.
    questions: tuple[str, ...]
    sections: tuple[Section, ...]
    routes: tuple[Route, ...]
    path: Path | None
    source: str = field(repr=False)
    front_matter_lines: dict[str, int] = field(default_factory=dict, repr=False)
    #: The signatures also match errors of a running application (a view saving a duplicate
    #: row, a query casting a bad value): they decide only when the paste is not a
    #: traceback of code that ran outside migrations.
    migration_only: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)

    @property
    def examples(self) -> tuple[str, ...]:
        """The verbatim outputs under ``## Symptoms``; every one must match this playbook."""
        symptoms = self.section("Symptoms")
        return symptoms.code_blocks if symptoms else ()

    @property
    def steps(self) -> tuple[FixStep, ...]:
        return tuple(step for route in self.routes for step in route.steps)

    def compiled_signatures(self) -> list[re.Pattern[str]]:
        return [re.compile(s, re.M) for s in self.signatures]


def parse_playbook(text: str, path: Path | str | None = None) -> Playbook:
    """Parse one playbook; raise :class:`PlaybookError` naming the file and line."""
    path = Path(path) if path is not None else None
    text = text.replace("\r\n", "\n")
    match = _FRONT_MATTER_RE.match(text)
    if not match:
        raise PlaybookError("no front matter: the file must start with a '---' block", path, 1)
    meta = _load_front_matter(match.group(1), path)
    body_offset = match.group(0).count("\n")
    body = text[match.end() :]

    unknown = sorted(set(meta) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise PlaybookError(f"unknown front-matter key(s): {', '.join(unknown)}", path, 2)
    for key in REQUIRED_KEYS:
        if key not in meta:
            raise PlaybookError(f"front matter lacks the required key '{key}'", path, 2)
    lines = _key_lines(match.group(1))
    for key in ("id", "title", "summary", "category"):
        if not isinstance(meta[key], str) or not meta[key].strip():
            raise PlaybookError(f"'{key}' must be a non-empty string", path, lines.get(key))
    for key in ("backends", "signatures", "exceptions", "related", "questions"):
        value = meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PlaybookError(f"'{key}' must be a list of strings", path, lines.get(key))

    migration_only = meta.get("migration_only", False)
    if not isinstance(migration_only, bool):
        raise PlaybookError(
            "'migration_only' must be true or false", path, lines.get("migration_only")
        )

    sections = _split_sections(body, body_offset)
    fix = next((s for s in sections if s.title == "Fix"), None)
    routes = _parse_routes(fix) if fix else ()
    return Playbook(
        id=meta["id"].strip(),
        title=meta["title"].strip(),
        summary=" ".join(meta["summary"].split()),
        category=meta["category"].strip(),
        backends=tuple(meta["backends"]),
        signatures=tuple(meta["signatures"]),
        exceptions=tuple(meta.get("exceptions", [])),
        related=tuple(meta.get("related", [])),
        questions=tuple(" ".join(q.split()) for q in meta.get("questions", [])),
        sections=sections,
        routes=routes,
        path=path,
        source=text,
        front_matter_lines=lines,
        migration_only=migration_only,
    )


def load_playbooks(directory: Path | str | None = None) -> tuple[Playbook, ...]:
    """Every ``*.md`` playbook in *directory* (default: the installed ``migfix.kb``)."""
    if directory is None:
        files: Iterable[Any] = resources.files("migfix.kb").iterdir()
    else:
        files = Path(directory).iterdir()
    playbooks = [
        parse_playbook(f.read_text(encoding="utf-8"), Path(str(f)))
        for f in sorted(files, key=lambda f: f.name)
        if f.name.endswith(".md") and f.name != "README.md"
    ]
    return tuple(sorted(playbooks, key=lambda p: p.id))


def kb_digest(playbooks: Iterable[Playbook]) -> str:
    """A content hash of the whole KB; the index manifest records it to detect staleness."""
    digest = hashlib.sha256()
    for playbook in sorted(playbooks, key=lambda p: p.id):
        digest.update(playbook.id.encode() + b"\0" + playbook.source.encode() + b"\0")
    return digest.hexdigest()


def _load_front_matter(raw: str, path: Path | None) -> dict[str, Any]:
    try:
        meta = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 2
        raise PlaybookError(f"front matter is not valid YAML: {exc}", path, line) from None
    if not isinstance(meta, dict):
        raise PlaybookError("front matter must be a mapping of keys", path, 2)
    return meta


def _key_lines(raw: str) -> dict[str, int]:
    """Line of each top-level front-matter key (the file's line 1 is the opening ---)."""
    return {
        m.group(1): raw[: m.start()].count("\n") + 2
        for m in re.finditer(r"^([A-Za-z_]+):", raw, re.M)
    }


def _split_sections(body: str, offset: int) -> tuple[Section, ...]:
    tokens = _md.parse(body)
    lines = body.split("\n")
    heads = [
        (tok.map[0], tokens[i + 1].content.strip())
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open" and tok.tag == "h2" and tok.map
    ]
    sections = []
    for n, (start, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        text = "\n".join(lines[start + 1 : end]).rstrip()
        fences = tuple(
            tok.content
            for tok in tokens
            if tok.type == "fence" and tok.map and start < tok.map[0] < end
        )
        sections.append(Section(title, text, start + 1 + offset, fences))
    return tuple(sections)


def _parse_routes(fix: Section) -> tuple[Route, ...]:
    """Split ``## Fix`` into routes at each H3 and read each route's ordered list."""
    tokens = _md.parse(fix.text)
    base = fix.line + 1  # first line of fix.text in the file
    routes: list[Route] = []
    title: str | None = None
    route_line = fix.line
    steps: list[FixStep] = []
    confirmed: tuple[str, ...] = ()

    def close() -> None:
        if steps or title is not None:
            routes.append(Route(title, confirmed, tuple(steps), route_line))

    i = 0
    depth = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open" and tok.tag == "h3" and tok.map:
            close()
            title, route_line = tokens[i + 1].content.strip(), base + tok.map[0]
            steps, confirmed = [], ()
        elif tok.type == "paragraph_open" and depth == 0 and i + 1 < len(tokens):
            found = _CONFIRMED_RE.search(tokens[i + 1].content)
            if found:
                confirmed = tuple(re.findall(r"`([^`]+)`", found.group(1)))
        elif tok.type in ("ordered_list_open", "bullet_list_open"):
            depth += 1
        elif tok.type in ("ordered_list_close", "bullet_list_close"):
            depth -= 1
        elif tok.type == "list_item_open" and depth == 1 and tok.map and _in_ordered(tokens, i):
            steps.append(_parse_step(tok.map, tokens, i, base))
        i += 1
    close()
    return tuple(routes)


def _in_ordered(tokens: list[Any], index: int) -> bool:
    level = tokens[index].level
    for tok in reversed(tokens[:index]):
        if tok.level == level - 1 and tok.type in ("ordered_list_open", "bullet_list_open"):
            return bool(tok.type == "ordered_list_open")
    return False


def _parse_step(span: list[int], tokens: list[Any], index: int, base: int) -> FixStep:
    level = tokens[index].level
    commands: list[str] = []
    prose: list[str] = []
    for tok in tokens[index + 1 :]:
        if tok.type == "list_item_close" and tok.level == level:
            break
        if tok.type == "fence":
            commands.append(tok.content.rstrip("\n"))
        elif tok.type == "inline":
            prose.append(tok.content)
    text = "\n".join(prose).strip()
    tag = _TAG_RE.match(text)
    risk: Risk | None = tag.group(1) if tag else None  # type: ignore[assignment]
    if tag:
        text = text[tag.end() :]
    applies = _APPLIES_RE.search(text)
    conditions = (
        tuple(c.strip().lower() for c in re.split(r",|\band\b", applies.group(1)) if c.strip())
        if applies
        else ()
    )
    pre = _PRECONDITION_RE.search(text)
    return FixStep(
        risk=risk,
        text=text,
        commands=tuple(commands),
        applies_when=conditions,
        precondition=" ".join(pre.group(1).split()) if pre else None,
        line=base + span[0],
    )
