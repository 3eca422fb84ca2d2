"""``migfix kb lint``: the format and safety rules every playbook must follow.

The parser (:mod:`migfix.indexer.playbook`) reads leniently; this module judges. Each
rule has a stable name so that CI output can be grepped and a rule's test can target it.
The linter reports every problem it finds in one run instead of stopping at the first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from migfix.checker.findings import PLAYBOOK_FOR_CODE
from migfix.indexer.errors import PlaybookError
from migfix.indexer.playbook import (
    BACKENDS,
    CATEGORIES,
    CONDITIONS,
    DJANGO_BOUND,
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    SECTIONS,
    Playbook,
    Route,
    parse_playbook,
)
from migfix.indexer.signature import SignatureSet
from migfix.indexer.taxonomy import NO_MATCH_ID, TAXONOMY_IDS

#: Every rule the linter applies, with what it enforces.
RULES: dict[str, str] = {
    "front-matter": "the file parses: front matter present, valid YAML, known keys, right types",
    "id-stem": "the id equals the file name without .md",
    "duplicate-id": "no two files declare the same id",
    "reserved-id": f"'{NO_MATCH_ID}' is the no-match answer, never a playbook",
    "coverage": "every taxonomy id has a playbook",
    "category": f"category is one of {', '.join(CATEGORIES)}",
    "backends": f"backends is a non-empty subset of {', '.join(BACKENDS)}",
    "sections": "the H2 sections are exactly " + ", ".join(SECTIONS) + ", once each, in order",
    "symptoms-example": "Symptoms has at least one fenced example",
    "signature": "every signature compiles as a Python regex",
    "fix-steps": "Fix, and each of its ### routes, has at least one numbered step",
    "risk-tag": "every fix step starts with [safe], [caution] or [destructive]",
    "applies-when": "Applies when: uses only known conditions or django>=X.Y bounds",
    "placeholder": "placeholders in commands are known ones",
    "confirmed-by": "Confirmed by: names existing checker finding codes",
    "related": "related ids are other playbooks of the KB or taxonomy ids",
    "destructive-first": "a [destructive] step is never the first step of its route",
    "destructive-precondition": "a [destructive] step states Precondition:",
    "destructive-backup": "a [destructive] step comes after a step that backs up",
    "example-unmatched": "every Symptoms example matches its own playbook's signatures",
    "example-shadowed": "no other playbook matches a Symptoms example as strongly",
}

_BACKUP_RE = re.compile(r"\bback(?:ed|ing)?[\s-]?ups?\b|pg_dump|mysqldump|\.backup\b", re.I)
_COMMAND_SECTIONS = ("Diagnose", "Fix", "Verify")


@dataclass(frozen=True, order=True)
class LintError:
    """One broken rule at one place; prints as ``path:line: [rule] message``."""

    path: Path
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


#: The per-playbook ``error(line, rule, message)`` helper that the rule functions receive.
_ErrorFactory = Callable[[int | None, str, str], LintError]


def playbook_files(directory: Path) -> list[Path]:
    """The playbook files of a KB directory (as :func:`load_playbooks` sees them)."""
    return sorted(p for p in directory.glob("*.md") if p.name != "README.md")


def lint_directory(directory: Path | str, *, coverage: bool = True) -> list[LintError]:
    """Lint every playbook in *directory*; with *coverage*, require every taxonomy id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such directory")
    errors: list[LintError] = []
    playbooks: list[Playbook] = []
    for path in playbook_files(directory):
        try:
            playbooks.append(parse_playbook(path.read_text(encoding="utf-8"), path))
        except PlaybookError as exc:
            errors.append(LintError(path, exc.line or 1, "front-matter", exc.message))
        except UnicodeDecodeError:
            errors.append(LintError(path, 1, "front-matter", "the file is not UTF-8 text"))
    errors.extend(lint_playbooks(playbooks, coverage=coverage, directory=directory))
    return sorted(errors)


def lint_playbooks(
    playbooks: Iterable[Playbook], *, coverage: bool = True, directory: Path | None = None
) -> list[LintError]:
    """Per-playbook rules, then the rules that compare playbooks with each other."""
    playbooks = list(playbooks)
    errors = [error for playbook in playbooks for error in _lint_one(playbook)]
    errors.extend(_lint_ids(playbooks, coverage, directory))
    errors.extend(_lint_related(playbooks))
    errors.extend(_lint_examples(playbooks))
    return sorted(errors)


def _where(playbook: Playbook) -> Path:
    return playbook.path or Path(f"{playbook.id}.md")


def _lint_one(playbook: Playbook) -> Iterator[LintError]:
    path = _where(playbook)
    keys = playbook.front_matter_lines

    def error(line: int | None, rule: str, message: str) -> LintError:
        return LintError(path, line or 1, rule, message)

    if playbook.path is not None and playbook.path.stem != playbook.id:
        yield error(
            keys.get("id"),
            "id-stem",
            f"id '{playbook.id}' differs from the file name '{playbook.path.name}'",
        )
    if playbook.category not in CATEGORIES:
        yield error(
            keys.get("category"),
            "category",
            f"unknown category '{playbook.category}' (use {' or '.join(CATEGORIES)})",
        )
    unknown_backends = [b for b in playbook.backends if b not in BACKENDS]
    if unknown_backends or not playbook.backends:
        what = (
            f"unknown backend(s) {', '.join(unknown_backends)}"
            if unknown_backends
            else "no backends"
        )
        yield error(keys.get("backends"), "backends", f"{what} (use {', '.join(BACKENDS)})")
    for n, pattern in enumerate(playbook.signatures):
        try:
            re.compile(pattern, re.M)
        except re.error as exc:
            line = keys.get("signatures", 1) + n + 1
            yield error(line, "signature", f"signature {n + 1} does not compile: {exc}")
    yield from _lint_sections(playbook, error)
    yield from _lint_fix(playbook, error)


def _lint_sections(playbook: Playbook, error: _ErrorFactory) -> Iterator[LintError]:
    titles = [s.title for s in playbook.sections]
    for section in playbook.sections:
        if section.title not in SECTIONS:
            yield error(section.line, "sections", f"unknown section '## {section.title}'")
    for title, count in Counter(titles).items():
        if title in SECTIONS and count > 1:
            line = [s.line for s in playbook.sections if s.title == title][1]
            yield error(line, "sections", f"section '## {title}' appears {count} times")
    missing = [title for title in SECTIONS if title not in titles]
    if missing:
        yield error(1, "sections", f"missing section(s): {', '.join('## ' + t for t in missing)}")
    known = [s for s in playbook.sections if s.title in SECTIONS]
    order = [SECTIONS.index(s.title) for s in known]
    for before, after, section in zip(order, order[1:], known[1:], strict=False):
        if after < before:
            yield error(
                section.line,
                "sections",
                f"'## {section.title}' is out of order (expected {' > '.join(SECTIONS)})",
            )
            break
    symptoms = playbook.section("Symptoms")
    if symptoms is not None and not symptoms.code_blocks:
        yield error(
            symptoms.line, "symptoms-example", "Symptoms has no fenced example of the real output"
        )
    for section in playbook.sections:
        if section.title in _COMMAND_SECTIONS:
            yield from _lint_placeholders(section.text, section.line + 1, error)


def _lint_placeholders(text: str, first_line: int, error: _ErrorFactory) -> Iterator[LintError]:
    for n, line in enumerate(text.split("\n")):
        for name in PLACEHOLDER_RE.findall(line):
            if name not in PLACEHOLDERS:
                yield error(
                    first_line + n,
                    "placeholder",
                    f"unknown placeholder <{name}> (known: {', '.join(sorted(PLACEHOLDERS))})",
                )


def _lint_fix(playbook: Playbook, error: _ErrorFactory) -> Iterator[LintError]:
    fix = playbook.section("Fix")
    if fix is not None and not playbook.steps:
        yield error(fix.line, "fix-steps", "Fix has no numbered steps")
    for route in playbook.routes:
        if playbook.steps and not route.steps:
            yield error(route.line, "fix-steps", f"route '{route.title}' has no numbered steps")
        for code in route.confirmed_by:
            if code not in PLAYBOOK_FOR_CODE:
                yield error(
                    route.line, "confirmed-by", f"unknown finding code '{code}' in Confirmed by:"
                )
        yield from _lint_route(route, error)


def _lint_route(route: Route, error: _ErrorFactory) -> Iterator[LintError]:
    for n, step in enumerate(route.steps):
        if step.risk is None:
            yield error(
                step.line, "risk-tag", "step does not start with [safe], [caution] or [destructive]"
            )
        for condition in step.applies_when:
            if condition not in CONDITIONS and not DJANGO_BOUND.match(condition):
                yield error(
                    step.line,
                    "applies-when",
                    f"unknown condition '{condition}'"
                    f" (use {', '.join(sorted(CONDITIONS))} or django>=X.Y)",
                )
        if step.risk != "destructive":
            continue
        if n == 0:
            yield error(
                step.line,
                "destructive-first",
                "a [destructive] step cannot be the first step of its route",
            )
        if not step.precondition:
            yield error(
                step.line,
                "destructive-precondition",
                "a [destructive] step must state 'Precondition: ...'",
            )
        earlier = route.steps[:n]
        if not any(_BACKUP_RE.search(s.text + "\n" + (s.command or "")) for s in earlier):
            yield error(
                step.line,
                "destructive-backup",
                "no earlier step of this route backs up what this step destroys",
            )


def _lint_ids(
    playbooks: list[Playbook], coverage: bool, directory: Path | None
) -> Iterator[LintError]:
    by_id: dict[str, list[Playbook]] = {}
    for playbook in playbooks:
        by_id.setdefault(playbook.id, []).append(playbook)
    for playbook_id, same in by_id.items():
        for duplicate in same[1:]:
            yield LintError(
                _where(duplicate),
                duplicate.front_matter_lines.get("id", 1),
                "duplicate-id",
                f"id '{playbook_id}' is also declared by {_where(same[0])}",
            )
    if NO_MATCH_ID in by_id:
        bad = by_id[NO_MATCH_ID][0]
        yield LintError(
            _where(bad),
            1,
            "reserved-id",
            f"'{NO_MATCH_ID}' means no confident match and must not be a playbook",
        )
    if coverage:
        where = directory if directory is not None else Path(".")
        for playbook_id in TAXONOMY_IDS:
            if playbook_id not in by_id:
                yield LintError(
                    where / f"{playbook_id}.md",
                    1,
                    "coverage",
                    f"taxonomy id '{playbook_id}' has no playbook",
                )


def _lint_related(playbooks: list[Playbook]) -> Iterator[LintError]:
    known = {p.id for p in playbooks} | set(TAXONOMY_IDS)
    for playbook in playbooks:
        line = playbook.front_matter_lines.get("related", 1)
        for related in playbook.related:
            if related == playbook.id:
                yield LintError(
                    _where(playbook), line, "related", "a playbook cannot be related to itself"
                )
            elif related not in known:
                yield LintError(
                    _where(playbook), line, "related", f"related id '{related}' is not a playbook"
                )


def _lint_examples(playbooks: list[Playbook]) -> Iterator[LintError]:
    """Each Symptoms example must rank its own playbook first among all signatures."""
    compilable = [p for p in playbooks if _compiles(p)]
    signatures = SignatureSet(compilable)
    for playbook in compilable:
        symptoms = playbook.section("Symptoms")
        for n, example in enumerate(playbook.examples):
            line = _example_line(playbook, example) or (symptoms.line if symptoms else 1)
            hits = signatures.hits(example)
            own = next((hit for hit in hits if hit.playbook_id == playbook.id), None)
            if own is None:
                yield LintError(
                    _where(playbook),
                    line,
                    "example-unmatched",
                    f"Symptoms example {n + 1} matches none of this playbook's signatures",
                )
                continue
            rivals = [
                hit for hit in hits if hit.playbook_id != playbook.id and hit.span >= own.span
            ]
            for rival in rivals:
                how = "more strongly" if rival.span > own.span else "as strongly"
                yield LintError(
                    _where(playbook),
                    line,
                    "example-shadowed",
                    f"Symptoms example {n + 1} is matched {how} by '{rival.playbook_id}' "
                    f"({rival.span} vs {own.span} characters)",
                )


def _compiles(playbook: Playbook) -> bool:
    try:
        playbook.compiled_signatures()
    except re.error:
        return False
    return True


def _example_line(playbook: Playbook, example: str) -> int | None:
    """The line of the fence that opens *example* (the parser keeps content, not lines)."""
    first = example.split("\n", 1)[0]
    lines = playbook.source.split("\n")
    for n, line in enumerate(lines[1:], start=1):
        if line.strip() == first.strip() and lines[n - 1].lstrip().startswith(("```", "~~~")):
            return n
    return None
