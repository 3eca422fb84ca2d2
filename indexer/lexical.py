"""BM25 (Okapi) over passages, with a tokenizer made for tracebacks.

Tracebacks are identifier-heavy (``InconsistentMigrationHistory``, ``django_migrations``,
``0001_initial``), the regime where keyword ranking beats dense embeddings. So the
tokenizer keeps whole identifiers *and* their parts: a paste that says
``orders.0001_initial`` and a question that says "initial migration" both match. The
index is plain JSON and pure Python: loading and querying it imports neither torch nor
faiss.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migfix.indexer.errors import CorruptIndexError

FORMAT = 1
K1 = 1.2
B = 0.75

_IDENTIFIER_RE = re.compile(r"[A-Za-z0-9]+(?:[._][A-Za-z0-9]+)*")
_PART_RE = re.compile(r"[A-Za-z0-9]+")
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def tokenize(text: str) -> list[str]:
    """Lowercase tokens: every identifier whole, then its dotted, underscored and camel parts.

    ``django.db.migrations.exceptions.InconsistentMigrationHistory`` yields the whole name,
    ``django`` ... ``inconsistentmigrationhistory`` and ``inconsistent``, ``migration``,
    ``history``; ``0001_initial`` yields itself, ``0001`` and ``initial``.
    """
    tokens: list[str] = []
    for found in _IDENTIFIER_RE.finditer(text):
        whole = found.group(0)
        parts: list[str] = []
        if "." in whole:
            parts.extend(whole.split("."))
        for part in _PART_RE.findall(whole):
            if part not in parts:
                parts.append(part)
            camel = _CAMEL_RE.findall(part)
            if len(camel) > 1:
                parts.extend(camel)
        tokens.append(whole.lower())
        tokens.extend(p.lower() for p in parts if p != whole)
    return tokens


@dataclass(frozen=True)
class LexicalHit:
    doc_id: str
    score: float


class BM25Index:
    """Okapi BM25 with Lucene's non-negative idf, over documents identified by string ids."""

    def __init__(
        self,
        doc_ids: Sequence[str],
        lengths: Sequence[int],
        postings: dict[str, list[tuple[int, int]]],
        k1: float = K1,
        b: float = B,
    ):
        self.doc_ids = list(doc_ids)
        self.lengths = list(lengths)
        self.postings = postings
        self.k1 = k1
        self.b = b
        count = len(self.doc_ids)
        self.average_length = sum(self.lengths) / count if count else 0.0
        self._idf = {
            term: math.log(1 + (count - len(docs) + 0.5) / (len(docs) + 0.5))
            for term, docs in postings.items()
        }

    @classmethod
    def build(cls, documents: Iterable[tuple[str, str]]) -> BM25Index:
        """Index ``(doc_id, text)`` pairs."""
        doc_ids: list[str] = []
        lengths: list[int] = []
        postings: dict[str, list[tuple[int, int]]] = {}
        for n, (doc_id, text) in enumerate(documents):
            tokens = tokenize(text)
            doc_ids.append(doc_id)
            lengths.append(len(tokens))
            for term, frequency in Counter(tokens).items():
                postings.setdefault(term, []).append((n, frequency))
        return cls(doc_ids, lengths, postings)

    def search(self, text: str, k: int = 10) -> list[LexicalHit]:
        """The *k* best documents for *text*; each distinct query term counts once."""
        scores: dict[int, float] = {}
        for term in set(tokenize(text)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for doc, frequency in self.postings[term]:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[doc] / self.average_length)
                scores[doc] = scores.get(doc, 0.0) + idf * frequency * (self.k1 + 1) / (
                    frequency + norm
                )
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: max(k, 0)]
        return [LexicalHit(self.doc_ids[doc], score) for doc, score in ranked]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "k1": self.k1,
            "b": self.b,
            "doc_ids": self.doc_ids,
            "lengths": self.lengths,
            "postings": {
                term: [list(p) for p in docs] for term, docs in sorted(self.postings.items())
            },
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        """Read an index written by :meth:`save`.

        Any inconsistency is a :class:`CorruptIndexError`.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            doc_ids = [str(d) for d in data["doc_ids"]]
            lengths = [int(n) for n in data["lengths"]]
            postings = {
                str(term): [(int(doc), int(tf)) for doc, tf in docs]
                for term, docs in data["postings"].items()
            }
            if len(lengths) != len(doc_ids) or any(
                not 0 <= doc < len(doc_ids) for docs in postings.values() for doc, _ in docs
            ):
                raise ValueError("postings refer to documents that do not exist")
            return cls(doc_ids, lengths, postings, float(data["k1"]), float(data["b"]))
        except (
            OSError,
            UnicodeDecodeError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
        ) as exc:
            raise CorruptIndexError(
                f"{path}: unreadable lexical index ({exc}); run `migfix index`"
            ) from None
