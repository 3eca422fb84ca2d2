"""Redact secrets from pasted text before anything is logged, stored or echoed.

People paste whole CI logs and settings dumps; those carry database URLs with passwords,
``SECRET_KEY`` values and API tokens. Redaction runs first, on the normalised text, so
that no later stage (signals, answers, the feedback store, Slack) ever sees a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "***"

# (kind, pattern, replacement); replacements keep the name so the text stays readable.
_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "url-password",
        re.compile(r"\b([a-z][a-z0-9+.\-]*://[^:/@\s'\"]+):([^@\s'\"]+)@", re.I),
        rf"\1:{MASK}@",
    ),
    (
        "private-key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        f"-----PRIVATE KEY {MASK}-----",
    ),
    (
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
        MASK,
    ),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{16,}"), MASK),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), MASK),
    ("aws-key", re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),
    ("api-key", re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}"), MASK),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+"), MASK),
    ("bearer", re.compile(r"\b(Bearer|Token|Basic)\s+[A-Za-z0-9._~+/=\-]{12,}"), rf"\1 {MASK}"),
    (
        # SECRET_KEY = '...', "PASSWORD": "...", DB_PASSWORD=..., --password=..., PGPASSWORD=...
        "assignment",
        re.compile(
            r"""(?P<key>["']?[\w\-]*(?:SECRET|PASSWORD|PASSWD|PWD|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY)[\w\-]*["']?)"""
            r"""(?P<sep>\s*[:=]\s*)(?P<q>["']?)(?P<value>[^"'\s,}]{1,})(?P=q)""",
            re.I,
        ),
        rf"\g<key>\g<sep>\g<q>{MASK}\g<q>",
    ),
    (
        "mysql-password-flag",
        re.compile(
            r"(\b(?:mysql|mariadb|mysqldump|mariadb-dump|mysqladmin)\b[^\n]*?\s-p)(?!\s)([^\s'\"]+|'[^']*'|\"[^\"]*\")"
        ),
        rf"\1{MASK}",
    ),
)


@dataclass(frozen=True)
class Redaction:
    """The redacted text and the kinds of secret removed (never the secrets themselves)."""

    text: str
    kinds: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.kinds)


def redact(text: str) -> Redaction:
    """Mask every secret that the rules recognise."""
    kinds: list[str] = []
    for kind, pattern, replacement in _RULES:

        def sub(match: re.Match[str], kind: str = kind, replacement: str = replacement) -> str:
            masked = match.expand(replacement)
            if masked != match.group(0):  # already-masked text is not counted again
                kinds.append(kind)
            return masked

        text = pattern.sub(sub, text)
    return Redaction(text, tuple(kinds))
