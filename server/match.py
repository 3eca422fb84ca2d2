"""Match parsed text to playbooks: signatures first, hybrid retrieval as the fallback.

Signatures are fingerprints of Django's own message templates; when one matches, the
answer is decided without loading the index's dense part or torch. Otherwise three
rankings (BM25, the nearest passage, the playbook centroid) are fused with reciprocal
rank fusion and a calibrated confidence decides between an answer and ``no_match``.
Over-matching is the worse failure (a wrong playbook sends people down a wrong, possibly
destructive path), so a pasted error or log that no signature covers and that never
mentions migrations needs a very confident retrieval; plain-language questions need the
ordinary calibrated threshold.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migfix.indexer.playbook import Playbook
from migfix.indexer.signature import SignatureHit, SignatureSet
from migfix.server.parse import Parsed

if TYPE_CHECKING:
    from migfix.indexer.store import IndexBundle

RRF_K = 60
"""The usual reciprocal-rank-fusion constant (Cormack et al.; OpenSearch and DocsGPT use 60)."""
CANDIDATES = 20

THRESHOLD = 0.55
"""Hybrid confidence needed to answer. Chosen with ``bench/eval.py --calibrate`` from
out-of-fold (5-fold) confidences on the 174 evaluation cases that reach retrieval (the blind
test questions never take part): 0.5 is the lowest threshold at which no negative is
answered and under 3% of the positives get a wrong playbook, and one step of margin makes
it 0.55 (106 right, 2 wrong, 59/59 negatives kept out; on the held-out questions alone 61
of 72 right, 2 wrong, 12/12 negatives kept out)."""
STRICT_THRESHOLD = 0.9
"""Needed when the text is a paste (not a question) that no signature covers and that never
mentions migrations: such errors and logs are usually not migration problems at all."""

# Logistic calibration of the hybrid evidence, fitted with ``bench/eval.py --calibrate``
# on the evaluation cases that reach retrieval (never on the blind test questions).
CALIBRATION = {
    "bias": -6.73,
    "dense": 5.25,
    "margin": 1.28,
    "centroid": 6.46,
    "centroid_margin": 1.52,
    "lexical_top": 0.45,
    "lexical_margin": 0.71,
    "schema_words": 1.8,
}
FEATURES = tuple(name for name in CALIBRATION if name != "bias")


@dataclass(frozen=True)
class Candidate:
    """One ranked playbook and the evidence for it."""

    playbook_id: str
    confidence: float
    source: str  # "signature" | "hybrid"
    groups: dict[str, str] = field(default_factory=dict)
    pattern: str | None = None


@dataclass
class MatchResult:
    """Ranked candidates; ``decided`` says whether the first one is a confident answer."""

    candidates: list[Candidate]
    decided: bool
    route: str  # "signature" | "hybrid" | "none"
    reason: str
    features: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def signature_confidence(
    hits: list[SignatureHit], playbook: Playbook | None, parsed: Parsed
) -> float:
    """High, and higher for long specific templates with named groups and no close rival."""
    top = hits[0]
    confidence = 0.90 + 0.05 * min(1.0, top.span / 80)
    if top.groups:
        confidence += 0.02
    if playbook is not None and parsed.exceptions:
        names = {e.name for e in parsed.exceptions}
        if names & set(playbook.exceptions):
            confidence += 0.02
    if len(hits) > 1 and hits[1].span >= 0.8 * top.span:
        confidence -= 0.04
    return round(min(0.99, confidence), 3)


class Retriever:
    """The lexical and dense halves of the index, loaded lazily and once."""

    def __init__(
        self, playbooks: Iterable[Playbook], index_dir: Path | None = None, semantic: bool = True
    ):
        self._playbooks = tuple(playbooks)
        self._index_dir = index_dir
        self.semantic = semantic
        self._bundle: IndexBundle | None = None
        self._embedder: Any = None
        self._lock = threading.Lock()

    def bundle(self) -> IndexBundle:
        embedder = self.embedder()  # cheap: the model itself loads on the first encode
        with self._lock:
            if self._bundle is None:
                from migfix.indexer.store import default_index_dir, ensure_index

                directory = self._index_dir or default_index_dir()
                self._bundle = ensure_index(
                    directory, self._playbooks, embedder_factory=lambda: embedder
                )
            return self._bundle

    def embedder(self) -> Any:
        with self._lock:
            if self._embedder is None:
                from migfix.indexer.embed import SentenceTransformerEmbedder

                self._embedder = SentenceTransformerEmbedder()
            return self._embedder

    def rank(self, query: str) -> Rankings:
        """Per-playbook scores, best first, by BM25, by the nearest passage and by centroid."""
        bundle = self.bundle()
        lexical = _per_playbook(bundle.lexical_search(query, CANDIDATES))
        if not self.semantic:
            return Rankings(lexical, [], [])
        vector = self.embedder().encode_query(query)
        dense = _per_playbook(bundle.dense_search(vector, CANDIDATES))
        return Rankings(lexical, dense, bundle.centroid_search(vector))


@dataclass(frozen=True)
class Rankings:
    """Three views of one query: words (BM25), the nearest passage, the whole playbook.

    The nearest passage rewards a question that paraphrases one the KB lists; the
    centroid rewards one that is about the playbook's subject in other words.
    """

    lexical: list[tuple[str, float]]
    dense: list[tuple[str, float]]
    centroid: list[tuple[str, float]]

    def fused(self) -> list[tuple[str, float]]:
        return rrf((self.lexical, self.dense, self.centroid))  # an empty one adds nothing


def _per_playbook(hits: Iterable[Any]) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    for hit in hits:
        if hit.playbook_id not in best:
            best[hit.playbook_id] = float(hit.score)
    return list(best.items())


def rrf(rankings: Iterable[list[tuple[str, float]]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: scores are ignored, only ranks count."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (playbook_id, _) in enumerate(ranking, start=1):
            fused[playbook_id] = fused.get(playbook_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def hybrid_features(rankings: Rankings, top: str, parsed: Parsed) -> dict[str, float]:
    """The evidence the calibration weighs, for one candidate playbook."""
    lexical = rankings.lexical
    dense, dense_margin = _score_and_lead(rankings.dense, top)
    centroid, centroid_margin = _score_and_lead(rankings.centroid, top)
    lexical_top = bool(lexical) and lexical[0][0] == top
    # BM25 scores are unbounded: use the top's lead over the runner-up, relative to its score.
    lexical_margin = 0.0
    if lexical_top and lexical[0][1] > 0:
        runner_up = lexical[1][1] if len(lexical) > 1 else 0.0
        lexical_margin = (lexical[0][1] - runner_up) / lexical[0][1]
    return {
        "dense": dense,
        "margin": dense_margin,
        "centroid": centroid,
        "centroid_margin": centroid_margin,
        "lexical_top": float(lexical_top),
        "lexical_margin": lexical_margin,
        "schema_words": float(parsed.is_question and parsed.mentions_schema),
    }


def _score_and_lead(ranking: list[tuple[str, float]], playbook_id: str) -> tuple[float, float]:
    """A playbook's cosine score, and its lead over the best other playbook (negative if behind)."""
    score = dict(ranking).get(playbook_id, 0.0)
    rival = max((s for pid, s in ranking if pid != playbook_id), default=0.0)
    return score, score - rival


def calibrated(features: dict[str, float], weights: dict[str, float] | None = None) -> float:
    weights = weights or CALIBRATION
    z = weights["bias"] + sum(
        weights[name] * value for name, value in features.items() if name in weights
    )
    return round(1.0 / (1.0 + math.exp(-z)), 3)


def retrieval_query(parsed: Parsed) -> str:
    """What to search with: a question as asked; for a traceback, its exceptions and messages."""
    if parsed.is_question or not parsed.exceptions:
        return parsed.text[-2000:]
    parts = [f"{e.name}: {e.message}" for e in parsed.exceptions[-3:]]
    if parsed.command:
        parts.append(f"manage.py {parsed.command}")
    return "\n".join(parts)[:2000]


class Matcher:
    """Decides which playbook a parsed paste needs, or that none fits."""

    def __init__(self, playbooks: dict[str, Playbook], retriever: Retriever | None):
        self.playbooks = playbooks
        self.signatures = SignatureSet(playbooks.values())
        self.retriever = retriever

    def match(self, parsed: Parsed) -> MatchResult:
        hits = self.signatures.hits(parsed.text)
        if hits:
            return self._by_signature(hits, parsed)
        if self.retriever is None:
            return MatchResult([], False, "none", "no signature matched and retrieval is off")
        return self._by_retrieval(parsed)

    def _by_signature(self, hits: list[SignatureHit], parsed: Parsed) -> MatchResult:
        candidates: list[Candidate] = []
        for n, hit in enumerate(hits):
            confidence = signature_confidence(hits[n:], self.playbooks.get(hit.playbook_id), parsed)
            # A runner-up matched too, but a longer template took precedence over it.
            if n:
                confidence = round(min(confidence, candidates[0].confidence - 0.1), 3)
            candidates.append(
                Candidate(hit.playbook_id, confidence, "signature", hit.groups, hit.pattern)
            )
        top = self.playbooks.get(hits[0].playbook_id)
        if top is not None and top.migration_only and parsed.ran_outside_migrations:
            return MatchResult(
                candidates,
                False,
                "signature",
                f"the message matches {top.id}, but that error also comes from application"
                " code, and this traceback shows no migration or migrate running",
            )
        return MatchResult(
            candidates, True, "signature", f"signature of {hits[0].playbook_id} matched"
        )

    def _by_retrieval(self, parsed: Parsed) -> MatchResult:
        assert self.retriever is not None
        rankings = self.retriever.rank(retrieval_query(parsed))
        fused = rankings.fused()
        if not fused:
            return MatchResult([], False, "hybrid", "the index returned nothing")
        top = fused[0][0]
        features = hybrid_features(rankings, top, parsed)
        confidence = calibrated(features)
        candidates = [Candidate(top, confidence, "hybrid")]
        for playbook_id, _ in fused[1:5]:
            candidates.append(
                Candidate(
                    playbook_id,
                    calibrated(hybrid_features(rankings, playbook_id, parsed)),
                    "hybrid",
                )
            )
        strict = not parsed.is_question and not parsed.mentions_migrations
        needed = STRICT_THRESHOLD if strict else THRESHOLD
        decided = confidence >= needed
        if decided:
            reason = f"hybrid retrieval, confidence {confidence:.2f} >= {needed:.2f}"
        elif strict:
            reason = (
                f"{parsed.final.name if parsed.final else 'a paste'} with no migration context; "
                f"retrieval confidence {confidence:.2f} is below {needed:.2f}"
            )
        else:
            reason = f"retrieval confidence {confidence:.2f} is below {needed:.2f}"
        return MatchResult(candidates, decided, "hybrid", reason, features)
