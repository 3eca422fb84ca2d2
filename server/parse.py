"""Parse a paste into signals: what ran, what failed, and the names involved.

Users paste tracebacks with chained exceptions, CI logs with timestamps and colours,
``showmigrations`` listings, ``makemigrations`` prompts or a plain question. Matching and
composing need the same few facts from all of them (exception, message, apps, migrations,
tables, columns, backend, Django version, command), so this module normalises the text
once and extracts those facts without knowing anything about playbooks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from migfix.indexer.errors import InputError
from migfix.server.redact import redact

MAX_BYTES = 1_000_000
"""Larger pastes are refused: a migration failure never needs a megabyte of log."""

# --- normalisation ------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# One CI prefix per line: GitHub Actions / GitLab timestamps, bracketed clock times,
# docker compose service prefixes, Jenkins/GitHub annotations.
_LINE_PREFIXES = (
    re.compile(
        r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s"
        r"(?:\d{2}[OE]\+?\s?)?"
    ),
    re.compile(
        r"^\[\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]\s?"
    ),
    re.compile(r"^\[?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]?\s"),
    re.compile(r"^#\d+ \d+\.\d+ "),  # docker buildkit: "#12 3.456 "
    re.compile(r"^[\w.\-]+(?:[_-]\d+)?\s+\|\s?"),  # docker compose: "web-1  | "
    re.compile(r"^##\[(?:error|warning|group|endgroup|debug|notice)\]"),
    re.compile(r"^\[Pipeline\] "),
    re.compile(r"^section_(?:start|end):\d+:[\w.\-]+(?:\[[^\]]*\])?"),
)

# --- exceptions ---------------------------------------------------------------------------

_CHAIN_MARKERS = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)
_EXC_SUFFIX = (
    "Error",
    "Exception",
    "Warning",
    "History",
    "Missing",
    "NotFound",
    "DoesNotExist",
    "Match",
    "Exit",
    "Interrupt",
    "Returned",
    "Operation",
    "NotReady",
    "Configured",
    "Failure",
)
_EXC_LINE = re.compile(r"^(?P<qual>(?:[A-Za-z_]\w*\.)*(?P<cls>[A-Z]\w*))(?::\s?(?P<msg>.*))?$")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+, in (?P<func>\S+)')

# --- names --------------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][\w]*"
_MIGRATION = r"\d{4}_\w+"
_APP_MIGRATION = re.compile(rf"\b(?P<app>{_IDENT})\.(?P<migration>{_MIGRATION})\b")
_TUPLE_MIGRATION = re.compile(rf"\(\s*'(?P<app>{_IDENT})',\s*'(?P<migration>{_MIGRATION})'\s*\)")
_BARE_MIGRATION = re.compile(rf"(?<![\w.])(?P<migration>{_MIGRATION})\b")
_APP_PATTERNS = (
    re.compile(rf"No installed app with label '(?P<app>{_IDENT})'"),
    re.compile(rf"App '(?P<app>{_IDENT})' does not have migrations"),
    re.compile(rf"from app '(?P<app>{_IDENT})'"),
    re.compile(rf"in app '(?P<app>{_IDENT})'"),
    re.compile(rf"(?:in|for) app\(s\):? (?P<apps>'?{_IDENT}'?(?:, '?{_IDENT}'?)*)"),
    re.compile(rf"multiple leaf nodes in the migration graph: \([^)]* in (?P<app>{_IDENT})\)"),
    re.compile(
        rf"(?:migrate|makemigrations|showmigrations|sqlmigrate|squashmigrations)[ \t]+"
        rf"(?!-)(?P<app>{_IDENT})\b"
    ),
    re.compile(rf"^\s*(?P<app>{_IDENT}/?)\s*$\n(?=\s*\[[X ]\] |\s*\(no migrations\))", re.M),
    re.compile(r"\b(?:the|my|our) (?P<app>[a-z][a-z0-9_]*) app\b"),  # "in the orders app"
)
_TABLE_PATTERNS = (
    re.compile(r'(?:table|relation) "(?P<table>[\w.]+)"'),
    re.compile(r"no such table: (?P<table>[\w.]+)"),
    re.compile(r"Table '(?:\w+\.)?(?P<table>\w+)'"),
    re.compile(r"The row in table '(?P<table>\w+)'"),
    re.compile(
        r'(?:ALTER|CREATE|DROP) TABLE (?:IF (?:NOT )?EXISTS )?[`"]?(?P<table>\w+)[`"]?', re.I
    ),
    re.compile(r"(?:NOT NULL|UNIQUE|CHECK) constraint failed: (?P<table>\w+)\.\w+"),
    re.compile(r"Renaming the '(?P<table>\w+)' table"),
    re.compile(r'(?:INTO|FROM|UPDATE) [`"](?P<table>\w+)[`"]', re.I),
)
_COLUMN_PATTERNS = (
    re.compile(r'column "(?P<column>\w+)"'),
    re.compile(r"column '(?P<column>\w+)'"),
    re.compile(r"Unknown column '(?:\w+\.)?(?P<column>\w+)'"),
    re.compile(r"Duplicate column name '(?P<column>\w+)'"),
    re.compile(r"duplicate column name: (?P<column>\w+)"),
    re.compile(r"no such column: (?:\w+\.)?(?P<column>\w+)"),
    re.compile(r"(?:NOT NULL|UNIQUE) constraint failed: \w+\.(?P<column>\w+)"),
    re.compile(r"Key \((?P<column>\w+)\)="),
    re.compile(r"non-nullable field '(?P<column>\w+)'"),
    re.compile(r"Field '(?P<column>\w+)' on model"),
    re.compile(r"invalid foreign key: \w+\.(?P<column>\w+) contains"),
)
_CONSTRAINT_PATTERNS = (
    re.compile(r'constraint "(?P<constraint>\w+)"'),
    re.compile(r'unique index "(?P<constraint>\w+)"'),
    re.compile(r"for key '(?:\w+\.)?(?P<constraint>\w+)'"),
    re.compile(r"CONSTRAINT `(?P<constraint>\w+)`"),
)
_MODEL_PATTERNS = (
    re.compile(rf"(?:to|on model) '?(?P<app>{_IDENT})\.(?P<model>[A-Z]\w*)'?"),
    re.compile(rf"Related model '(?P<app>{_IDENT})\.(?P<model>\w+)' cannot be resolved"),
    re.compile(rf"lazy reference to '(?P<app>{_IDENT})\.(?P<model>\w+)'"),
    re.compile(r"non-nullable field '\w+' to (?P<model>\w+)"),
    re.compile(rf"on model '(?P<model>{_IDENT})'"),
)

# --- environment --------------------------------------------------------------------------

_BACKEND_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "postgresql",
        re.compile(
            r"psycopg2?\b|django/db/backends/postgresql|postgis|\bFATAL:\s|\bDETAIL:\s|relation \"\w+\"|\bPostgreSQL\b|\bpostgres(?:ql)?://"
        ),
    ),
    (
        "mysql",
        re.compile(
            r"\bMySQLdb\b|pymysql|mysql\.connector|django/db/backends/mysql|\(\d{4}, [\"']|\bMariaDB\b|\bMySQL\b|\bmysql://"
        ),
    ),
    (
        "sqlite",
        re.compile(
            r"\bsqlite3\b|django/db/backends/sqlite3|no such (?:table|column): |\bSQLite\b"
            r"|constraint failed: \w+\.\w+|duplicate column name: |database is locked"
        ),
    ),
)
_DJANGO_VERSION = (
    re.compile(r"Django Version:\s*(?P<v>\d+\.\d+(?:\.\d+)?)"),
    re.compile(r"[Dd]jango[-=]=?(?P<v>\d+\.\d+(?:\.\d+)?)(?:\.dist-info|\b)"),
    re.compile(r"\bDjango (?P<v>\d+\.\d+(?:\.\d+)?)\b"),
    re.compile(r"/docs\.djangoproject\.com/en/(?P<v>\d+\.\d+)/"),
)
_COMMAND_PATTERN = (
    r"(?:python[\d.]*[ \t]+(?:-\S+[ \t]+)*)?(?:\./)?(?:manage\.py|django-admin)[ \t]+"
    r"(?P<cmd>[a-z_]+)(?P<args>[^\n|;&'\"`]*)"
)
# A command the user ran (at the start of a line, after a shell prompt) beats one that a
# message merely mentions ("To fix them run 'python manage.py makemigrations --merge'").
_COMMAND_RAN = re.compile(
    rf"^[ \t]*(?:[\w@:~/.\-]*[$#>%][ \t]*|RUN[ \t]+|run:[ \t]*)?{_COMMAND_PATTERN}", re.M
)
_COMMAND = re.compile(rf"(?:^|[\s$>#]){_COMMAND_PATTERN}", re.M)
_COMMAND_FRAME = re.compile(r"django/core/management/commands/(?P<cmd>\w+)\.py")

# --- command outputs ----------------------------------------------------------------------

_SHOW_ROW = re.compile(rf"^\s+\[(?P<mark>[X ])\] (?P<migration>{_MIGRATION})", re.M)
_PLAN_ROW = re.compile(
    rf"^\[(?P<mark>[X ])\]\s+(?P<app>{_IDENT})\.(?P<migration>{_MIGRATION})", re.M
)
_APPLYING = re.compile(
    rf"^\s*(?P<verb>Applying|Unapplying|Rendering model states)\s*(?P<app>{_IDENT})?\.?"
    rf"(?P<migration>{_MIGRATION})?\.\.\.(?P<result> OK| FAKED| DONE)?",
    re.M,
)
_PROMPTS = (
    (
        "makemigrations-prompt",
        re.compile(
            r"It is impossible to (?:add|change) a (?:non-nullable|nullable) field"
            r"|Select an option:|Please select a fix:|\[y/N\]|Please enter the default value"
        ),
    ),
    (
        "merge-prompt",
        re.compile(
            r"Merging will only work if the operations printed above"
            r"|Do you want to merge these migration branches"
        ),
    ),
)
# "migrate", "django_migrations", or a migration number such as 0003 (not +0000, not :0080).
_MIGRATION_WORDS = re.compile(r"migrat|django_migrations|(?<![\w.:+\-])0\d{3}(?![\w.:])", re.I)
# A tool's own hint ("Is the server running on that host ...?") does not make a log a question.
_TOOL_OUTPUT = re.compile(r"\berror: |^ERROR\b|\bFATAL:|^npm ERR!|\bfailed: ", re.M)
_QUESTION = re.compile(
    r"\?\s*$|^(?:how|why|what|can|should|is|do|does|when|where|which|i |we |my |our )",
    re.I | re.M,
)


@dataclass(frozen=True)
class RaisedException:
    """One exception of a traceback: ``qualname`` as printed, ``name`` its last part."""

    name: str
    qualname: str
    message: str


@dataclass
class Parsed:
    """What a paste says, independent of any playbook."""

    text: str
    exceptions: list[RaisedException] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    command: str | None = None
    apps: list[str] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    backend: str | None = None
    django_version: str | None = None
    failing_migration: str | None = None
    unapplied: list[str] = field(default_factory=list)
    is_question: bool = False
    redacted: tuple[str, ...] = ()

    @property
    def final(self) -> RaisedException | None:
        """The exception that ended the program (the last one printed)."""
        return self.exceptions[-1] if self.exceptions else None

    @property
    def mentions_migrations(self) -> bool:
        return bool(
            self.migrations
            or self.outputs
            or (self.command and "migrat" in self.command)
            or _MIGRATION_WORDS.search(self.text)
        )

    @property
    def ran_outside_migrations(self) -> bool:
        """A traceback whose frames show where it ran, and none of them is a migration or
        ``migrate``: an application error, even if its message looks like one of migrate's."""
        frames = any(_FRAME.match(line) for line in self.text.split("\n"))
        return bool(self.exceptions) and frames and not self.mentions_migrations

    @property
    def mentions_schema(self) -> bool:
        """Migration or schema vocabulary: the words of the problems migfix knows."""
        return self.mentions_migrations or bool(
            re.search(r"\b(?:tables?|columns?|relation|constraint|field|schema)\b", self.text, re.I)
        )

    def signals(self) -> dict[str, Any]:
        """The JSON-friendly signals of the Answer; empty values are left out."""
        final = self.final
        data: dict[str, Any] = {
            "exception": final.name if final else None,
            "exception_qualname": final.qualname if final else None,
            "message": final.message if final else None,
            "chain": [e.name for e in self.exceptions] if len(self.exceptions) > 1 else None,
            "command": self.command,
            "outputs": self.outputs or None,
            "apps": self.apps or None,
            "migrations": self.migrations or None,
            "failing_migration": self.failing_migration,
            "unapplied": self.unapplied or None,
            "tables": self.tables or None,
            "columns": self.columns or None,
            "constraints": self.constraints or None,
            "models": self.models or None,
            "backend": self.backend,
            "django_version": self.django_version,
            "kind": "question"
            if self.is_question
            else ("traceback" if self.exceptions else "output"),
            "redacted": len(self.redacted) or None,
        }
        return {k: v for k, v in data.items() if v is not None}


def decode(data: bytes | str) -> str:
    """Text from raw input; refuse what no one could have meant as a paste."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise InputError(f"input is larger than {MAX_BYTES:,} bytes; paste the end of the log")
        if b"\x00" in data[:8192]:
            raise InputError(
                "input looks binary (it contains NUL bytes); paste the text of the error"
            )
        text = data.decode("utf-8", errors="replace")
    else:
        text = data
        if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
            raise InputError(f"input is larger than {MAX_BYTES:,} bytes; paste the end of the log")
        if "\x00" in text[:8192]:
            raise InputError(
                "input looks binary (it contains NUL characters); paste the text of the error"
            )
    if not text.strip():
        raise InputError("input is empty; paste a traceback, a log or a question")
    if text.count("\ufffd") > max(16, len(text) // 10):
        raise InputError("input is mostly not UTF-8 text; paste the text of the error")
    return text


def normalise(text: str) -> str:
    """Strip colours, CI prefixes and control characters; unify line ends."""
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    # A lone CR redraws the line (progress bars): keep what was drawn last.
    text = "\n".join(
        line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
        for line in text.split("\n")
    )
    text = _CONTROL.sub("", text).replace("\ufeff", "")
    lines = []
    for line in text.split("\n"):
        for prefix in _LINE_PREFIXES:
            stripped = prefix.sub("", line, count=1)
            if stripped != line:
                line = stripped
        lines.append(line.rstrip())
    return "\n".join(lines).strip("\n")


def parse(data: bytes | str) -> Parsed:
    """Decode, normalise, redact and read one paste."""
    redaction = redact(normalise(decode(data)))
    text = redaction.text
    if not text.strip():
        raise InputError("input is empty once colours and CI prefixes are removed")
    parsed = Parsed(text=text, redacted=redaction.kinds)
    parsed.exceptions = _exceptions(text)
    parsed.outputs, parsed.failing_migration, parsed.unapplied = _outputs(text)
    parsed.command = _command(text)
    _names(parsed)
    parsed.backend = _backend(text)
    parsed.django_version = _first(_DJANGO_VERSION, text, "v")
    parsed.is_question = (
        not parsed.exceptions
        and not parsed.outputs
        and bool(_QUESTION.search(text))
        and not _TOOL_OUTPUT.search(text)
        and len(text) < 2000
    )
    return parsed


def _exceptions(text: str) -> list[RaisedException]:
    """The exception of each traceback block, in order; chained ones come first."""
    lines = text.split("\n")
    found: list[RaisedException] = []
    in_traceback = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif line.strip() in _CHAIN_MARKERS:
            in_traceback = False
        else:
            exc = _exception_line(line, in_traceback)
            if exc is not None:
                message_lines = [exc.group("msg") or ""]
                # Messages such as CommandError's conflict report go on for a few lines.
                j = i + 1
                while j < len(lines) and lines[j].strip() and j - i <= 6:
                    nxt = lines[j]
                    if (
                        nxt.startswith(
                            (
                                "Traceback",
                                "  File ",
                                "The above",
                                "During handling",
                                "$ ",
                                "Error: ",
                                "ERROR",
                            )
                        )
                        or _exception_line(nxt, True) is not None
                        and "." in nxt.split(":", 1)[0]
                    ):
                        break
                    message_lines.append(nxt.strip())
                    j += 1
                message = "\n".join(m for m in message_lines if m).strip()
                found.append(RaisedException(exc.group("cls"), exc.group("qual"), message))
                in_traceback = False
                i = j
                continue
        i += 1
    return _dedupe_exceptions(found)


def _exception_line(line: str, in_traceback: bool) -> re.Match[str] | None:
    if not line or line[0].isspace():
        return None
    match = _EXC_LINE.match(line)
    if match is None:
        return None
    cls, qual = match.group("cls"), match.group("qual")
    looks_like = cls.endswith(_EXC_SUFFIX) or (in_traceback and match.group("msg") is not None)
    if not looks_like:
        return None
    # "Error: foo" from a CLI, or an English sentence, is not an exception line.
    if qual in ("Error", "Warning", "Exception") and not in_traceback:
        return None
    return match


def _dedupe_exceptions(found: list[RaisedException]) -> list[RaisedException]:
    out: list[RaisedException] = []
    for exc in found:
        if out and out[-1] == exc:
            continue
        out.append(exc)
    return out


def _outputs(text: str) -> tuple[list[str], str | None, list[str]]:
    """Which command outputs the paste contains, the migration that was running, unapplied ones."""
    kinds: list[str] = []
    unapplied: list[str] = []
    failing: str | None = None
    rows = list(_SHOW_ROW.finditer(text))
    if rows:
        kinds.append("showmigrations")
        unapplied.extend(m.group("migration") for m in rows if m.group("mark") == " ")
    plan = list(_PLAN_ROW.finditer(text))
    if plan:
        kinds.append("showmigrations-plan")
        unapplied.extend(
            f"{m.group('app')}.{m.group('migration')}" for m in plan if m.group("mark") == " "
        )
    if re.search(r"^Planned operations:", text, re.M):
        kinds.append("migrate-plan")
    applying = [m for m in _APPLYING.finditer(text) if m.group("migration")]
    if applying or re.search(r"^(?:Operations to perform|Running migrations):", text, re.M):
        kinds.append("migrate")
        last = applying[-1] if applying else None
        if last is not None and not last.group("result"):
            failing = f"{last.group('app')}.{last.group('migration')}"
    if re.search(r"^Migrations for '\w+':", text, re.M) or "No changes detected" in text:
        kinds.append("makemigrations")
    for kind, pattern in _PROMPTS:
        if pattern.search(text):
            kinds.append(kind)
    return kinds, failing, list(dict.fromkeys(unapplied))


def _command(text: str) -> str | None:
    ran = list(_COMMAND_RAN.finditer(text))
    if ran:
        return f"{ran[-1].group('cmd')} {ran[-1].group('args').strip()}".strip()
    frame = list(_COMMAND_FRAME.finditer(text))
    if frame:
        return frame[-1].group("cmd")
    mentioned = _COMMAND.search(text)
    return (
        f"{mentioned.group('cmd')} {mentioned.group('args').strip()}".strip() if mentioned else None
    )


def _names(parsed: Parsed) -> None:
    text = parsed.text
    apps: list[str] = []
    migrations: list[str] = []
    if parsed.failing_migration:
        app, _, name = parsed.failing_migration.partition(".")
        apps.append(app)
        migrations.append(name)
    for pattern in (_APP_MIGRATION, _TUPLE_MIGRATION):
        for m in pattern.finditer(text):
            if m.group("app") not in _NOT_APPS:
                apps.append(m.group("app"))
            migrations.append(m.group("migration"))
    for m in _BARE_MIGRATION.finditer(text):
        migrations.append(m.group("migration"))
    for pattern in _APP_PATTERNS:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            if groups.get("apps"):
                apps.extend(a.strip("' ") for a in groups["apps"].split(","))
            elif groups.get("app"):
                apps.append(groups["app"].rstrip("/"))
    parsed.apps = [a for a in dict.fromkeys(apps) if a not in _NOT_APPS]
    parsed.migrations = list(dict.fromkeys(migrations))
    parsed.tables = _collect(_TABLE_PATTERNS, text, "table", exclude=_NOT_TABLES)
    parsed.columns = _collect(_COLUMN_PATTERNS, text, "column")
    parsed.constraints = _collect(_CONSTRAINT_PATTERNS, text, "constraint")
    parsed.models = _collect(_MODEL_PATTERNS, text, "model")


_NOT_APPS = frozenset(
    [
        "python",
        "manage",
        "py",
        "self",
        "django",
        "os",
        "sys",
        "re",
        "migrations",
        "models",
        "settings",
        "the",
        "app",
        "all",
        "zero",
        "them",
        "same",
        "new",
        "other",
        "main",
        "whole",
        "web",
        "one",
    ]
)
_NOT_TABLES = frozenset({"IF", "if", "the"})


def _collect(
    patterns: tuple[re.Pattern[str], ...],
    text: str,
    group: str,
    exclude: frozenset[str] = frozenset(),
) -> list[str]:
    values = [
        m.group(group) for p in patterns for m in p.finditer(text) if m.group(group) not in exclude
    ]
    return list(dict.fromkeys(values))


def _backend(text: str) -> str | None:
    for name, pattern in _BACKEND_HINTS:
        if pattern.search(text):
            return name
    return None


def _first(patterns: tuple[re.Pattern[str], ...], text: str, group: str) -> str | None:
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            return m.group(group)
    return None
