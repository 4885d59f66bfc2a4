"""The answer/escalate decision, a pure function of a ranked pool and a fitted model.

Per question, ``features`` describes what retrieval found (the best passage's signals, its
margin over the next, how many of the top five come from one document), what the question
is (how strongly it belongs to the library's subjects — ``models.DomainModel`` —, whether it
tells a case of the asker's own, whether it is an exam item, how long it is) and whether the
best passage holds what the question asks for (a period, an amount, an obligation, a body).
The fitted ``models.AnswerModel.decision`` turns them into the probability that the best
passages answer the question; the desk answers at or above the model's threshold.

Why it escalates, when it does (``reason``): out of the library's subjects (either of the
domain model's two views — n-grams, embedding — below ``OUT_OF_SCOPE_LOGIT``) → no match; a case of the asker's own
(case cues) → needs an expert; else low confidence. A request to recommend a company or give
contacts is declined whatever the probability: the desk names no companies, by policy. So is a
question that names only laws the library does not hold (刑法第…, 民法典…): it asks about them,
and the library cannot quote them (out of its subjects). A
question that names the clause or document it asks about (``rank``), in the library's subjects
and about no case of the asker's own, is answered from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.answers import EscalationReason
from knowledge.judgement import Cues
from knowledge.models import AnswerModel, Logistic
from knowledge.question import QuestionParts
from knowledge.retrieval import Scored

OUT_OF_SCOPE_LOGIT = 0.0
"""Below this on either domain logit an escalated question is called out of the library's
subjects (cross-validated: 95% of out-of-scope questions, 12% of answerable ones; it names the
reason, the fitted decision decides)."""

FEATURES = (
    "top_score",  # the ranking's logit for the best passage
    "margin",  # best minus second best
    "top_dense",
    "best_dense",  # the highest dense similarity in the pool
    "top_coverage",
    "top_coverage_focus",
    "top_core_coverage",
    "top_bm25_focus",
    "top_kind_match",
    "asks_kind",  # the question asks for a period, an amount, an obligation or a body
    "domain_ngrams",  # domain logit from character n-grams
    "domain_vector",  # domain logit from the embedding
    "case_ngrams",  # answerable-from-a-clause logit (vs a case for an expert), n-grams
    "case_vector",  # the same from the embedding
    "incident_cues",  # something already happened to the asker
    "decision_cues",  # …and they want a decision about it
    "dispute_cues",  # a lawsuit, a claim
    "recommend_cues",  # asks to name a company
    "log_length",
    "is_exam",
    "top5_same_doc",  # share of the top five from the best passage's document
    "referenced",  # the best passage was named in the question
    "known_laws",  # laws of the library the question names
    "foreign_laws",  # laws the question names that the library does not hold (刑法, 民法典…)
)


@dataclass(frozen=True, slots=True)
class Verdict:
    answer: bool
    probability: float
    reason: EscalationReason
    case: bool  # the question tells a case of the asker's own (offer an expert with the answer)
    signals: dict[str, float]


def rank(pool: Sequence[Scored], ranker: Logistic) -> list[Scored]:
    """The pool best first, by the fitted ranking (sets each candidate's ``score``).

    A passage the question names directly (《law》第N条, a 文号) comes first whatever its
    score: the asker said which clause they mean.
    """
    for cand in pool:
        cand.score = ranker.logit(cand.vector())
    return sorted(pool, key=lambda c: (-c.features.get("referenced", 0.0), -c.score))


def features(
    parts: QuestionParts,
    ranked: Sequence[Scored],
    cues: Cues,
    text_logits: tuple[float, float, float, float],
    laws: tuple[int, int] = (0, 0),
) -> list[float]:
    """The question's features, in ``FEATURES`` order (``ranked`` best first, not empty)."""
    top = ranked[0].features
    second = ranked[1].score if len(ranked) > 1 else ranked[0].score - 5.0
    top_doc = ranked[0].meta.get("doc_id")
    same = sum(1 for c in ranked[:5] if c.meta.get("doc_id") == top_doc) / 5.0
    values = {
        "top_score": ranked[0].score,
        "margin": ranked[0].score - second,
        "top_dense": top["dense"],
        "best_dense": max(c.features["dense"] for c in ranked),
        "top_coverage": top["coverage"],
        "top_coverage_focus": top["coverage_focus"],
        "top_core_coverage": top["core_coverage"],
        "top_bm25_focus": top["bm25_focus"],
        "top_kind_match": top["kind_match"],
        "asks_kind": float(bool(parts.kinds)),
        "domain_ngrams": text_logits[0],
        "domain_vector": text_logits[1],
        "case_ngrams": text_logits[2],
        "case_vector": text_logits[3],
        "incident_cues": float(len(cues.incident)),
        "decision_cues": float(len(cues.decision)),
        "dispute_cues": float(len(cues.dispute)),
        "recommend_cues": float(len(cues.recommend)),
        "log_length": math.log1p(len(parts.text)),
        "is_exam": float(parts.is_exam),
        "top5_same_doc": same,
        "referenced": top["referenced"],
        "known_laws": float(laws[0]),
        "foreign_laws": float(laws[1]),
    }
    return [values[name] for name in FEATURES]


def decide(
    parts: QuestionParts,
    ranked: Sequence[Scored],
    cues: Cues,
    text_logits: tuple[float, float, float, float],
    model: AnswerModel,
    laws: tuple[int, int] = (0, 0),
) -> Verdict:
    """Answer or escalate, with the probability and the reason (see the module docstring)."""
    about_other_laws = laws[1] > 0 and laws[0] == 0
    out_of_scope = min(text_logits[:2]) < OUT_OF_SCOPE_LOGIT or about_other_laws
    case = bool(cues.incident or cues.dispute)
    if not ranked:
        return Verdict(False, 0.0, EscalationReason.NO_MATCH, case, {})
    x = features(parts, ranked, cues, text_logits, laws)
    p = model.decision.probability(x)
    signals = {name: round(v, 4) for name, v in zip(FEATURES, x, strict=True)}
    named = bool(ranked[0].features.get("referenced")) and not parts.is_exam
    declined = cues.recommend or about_other_laws
    if (p >= model.threshold or (named and not out_of_scope and not case)) and not declined:
        return Verdict(True, p, EscalationReason.NONE, case, signals)
    reason = (
        EscalationReason.NO_MATCH
        if out_of_scope
        else EscalationReason.NEEDS_EXPERT
        if case or cues.decision or cues.recommend
        else EscalationReason.LOW_CONFIDENCE
    )
    return Verdict(False, p, reason, case, signals)
