"""Fitting the answering model (``knowledge.models.AnswerModel``) with scikit-learn.

Input: labelled questions (the evaluation files' format: ``type``, ``source_doc``,
``evidence``), each already run through retrieval (``knowledge.answering.Prepared``: its
candidate pool and features do not depend on anything fitted). Three logistic regressions:

1. the **ranker**, on every candidate of every question with labelled evidence: does the
   candidate hold the evidence (``holds_evidence``, the criterion ``qadesk eval`` scores)?
2. the **domain model**, on the questions: in the library's subjects (answerable or needing
   an expert) or not (out of scope). Character n-grams (TF-IDF; the vocabulary is the one an
   L1 fit keeps, then an L2 fit on it) and, separately, the question's embedding.
3. the **case model**, the same kind of text model on the questions in scope: answerable
   from a clause, or needing an expert's judgement of the asker's own case?
4. the **decision**, on the questions: would answering be correct (answerable, and the
   ranker's top five hold the evidence)? Its domain and case features are cross-fitted (each
   question scored by text models that did not see it), as the desk will meet new questions.

The threshold is chosen on the decision's own cross-validated probabilities (``THRESHOLD_REPEATS``
splits, pooled): the one that maximises correct answers minus ``WRONG_COST`` × wrong ones (an
answered question that is out of scope, needs an expert, or is answered from the wrong
passage) — a wrong answer about the law is worse than "let me ask an expert". With a cost of 2
the last question answered should be right about two times in three; a cost of 3 kept the
same out-of-scope and needs-expert escalation on the held-out folds and answered 6–8 points
fewer answerable questions (cross-validated, on each file).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from knowledge import decision
from knowledge.models import AnswerModel, DomainModel, Logistic
from knowledge.retrieval import FEATURES as PASSAGE_FEATURES
from knowledge.retrieval import Scored
from knowledge.text import bigram_coverage

if TYPE_CHECKING:
    from knowledge.answering import Prepared

ANSWERABLE = "answerable"
IN_SCOPE = frozenset({ANSWERABLE, "ambiguous_or_needs_expert"})
HIT_COVERAGE = 0.5  # a passage holds the evidence when it has this share of its bigrams
WRONG_COST = 2.0
# Inverse regularisation strengths (scikit-learn's C), one per model.
RANKER_C = 0.1
NGRAM_SELECTION_C = 10.0  # the L1 fit that chooses the domain model's n-grams
NGRAM_C = 3.0  # the L2 fit on the chosen n-grams
VECTOR_C = 0.05  # the embedding's model, over standardised dimensions
DECISION_CS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""The decision's regularisation strengths tried; see ``_strength_and_threshold``."""
THRESHOLD_REPEATS = 10
"""The threshold is chosen on the held-out probabilities of this many 5-fold cross-validations
with different splits, pooled: one split's curve is too noisy on a few hundred questions (the
thresholds of five folds' models ranged from 0.40 to 0.80 with a single split)."""
TOP = 5


def holds_evidence(item: dict[str, Any], document: str | None, text: str) -> bool:
    """Whether a passage of ``document`` holds the item's labelled evidence."""
    evidence = str(item.get("evidence") or "")
    return (
        bool(evidence)
        and document == item.get("source_doc")
        and bigram_coverage(evidence, text) >= HIT_COVERAGE
    )


@dataclass
class Example:
    item: dict[str, Any]
    prepared: Prepared

    @property
    def kind(self) -> str:
        return str(self.item.get("type") or ANSWERABLE)

    def labels(self) -> list[bool]:
        return [
            holds_evidence(self.item, str(c.meta.get("file_name", "")), c.text)
            for c in self.prepared.pool
        ]

    def correct_if_answered(self, ranked: Sequence[Scored]) -> bool:
        return self.kind == ANSWERABLE and any(
            holds_evidence(self.item, str(c.meta.get("file_name", "")), c.text)
            for c in ranked[:TOP]
        )


def _logistic(names: Sequence[str], x: Any, y: Any, c: float, balanced: bool) -> Logistic:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    model = LogisticRegression(
        C=c, max_iter=5000, class_weight="balanced" if balanced else None
    ).fit(scaler.transform(x), y)
    return Logistic(
        tuple(names),
        tuple(float(v) for v in scaler.mean_),
        tuple(float(v) for v in scaler.scale_),
        tuple(float(v) for v in model.coef_[0]),
        float(model.intercept_[0]),
    )


def _strength_and_threshold(
    rows: list[list[float]], correct: list[bool], folds: int, seed: int
) -> tuple[float, float]:
    """The decision's regularisation strength and threshold, chosen together on its own
    cross-validated probabilities: for each strength in ``DECISION_CS``, ``THRESHOLD_REPEATS``
    cross-validations with different splits, pooled; the pair with the highest gain
    (``choose_threshold``'s correct − ``WRONG_COST`` × wrong) is kept."""
    import warnings

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(rows)
    best: tuple[float, float, float] = (-math.inf, DECISION_CS[0], 1.0)
    for strength in DECISION_CS:
        held_out: list[float] = []
        for r in range(THRESHOLD_REPEATS):
            splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=FutureWarning)
                predicted = cross_val_predict(
                    LogisticRegression(C=strength, max_iter=5000),
                    scaled,
                    correct,
                    cv=splits,
                    method="predict_proba",
                )[:, 1]
            held_out += [float(p) for p in predicted]
        pooled = correct * THRESHOLD_REPEATS
        threshold = choose_threshold(held_out, pooled)
        gain = sum(
            (1.0 if ok else -WRONG_COST)
            for p, ok in zip(held_out, pooled, strict=True)
            if p >= threshold
        )
        if gain > best[0]:
            best = (gain, strength, threshold)
    return best[1], best[2]


def fit_ranker(examples: Sequence[Example]) -> Logistic:
    rows: list[list[float]] = []
    labels: list[bool] = []
    for ex in examples:
        if ex.item.get("evidence") and ex.prepared.pool:
            rows += [c.vector() for c in ex.prepared.pool]
            labels += ex.labels()
    return _logistic(PASSAGE_FEATURES, rows, labels, c=RANKER_C, balanced=True)


def in_scope(ex: Example) -> bool:
    return ex.kind in IN_SCOPE


def answerable(ex: Example) -> bool:
    return ex.kind == ANSWERABLE


def fit_domain(
    examples: Sequence[Example], label: Callable[[Example], bool] = in_scope
) -> DomainModel:
    """A text classifier of questions (n-grams and embedding) for ``label``; see the docstring."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    texts = [ex.prepared.text for ex in examples]
    y = [label(ex) for ex in examples]
    if len(set(y)) < 2:
        raise ValueError(f"fitting {label.__name__} needs questions of both kinds")
    wide = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    x_wide = wide.fit_transform(texts)
    sparse = LogisticRegression(
        C=NGRAM_SELECTION_C,
        l1_ratio=1.0,
        solver="saga",
        max_iter=5000,
        class_weight="balanced",
        random_state=0,  # saga visits the rows in a random order: the same files, the same model
    ).fit(x_wide, y)
    names = wide.get_feature_names_out()
    kept = [str(names[i]) for i in np.flatnonzero(sparse.coef_[0])]
    narrow = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), sublinear_tf=True, vocabulary=kept
    )
    x_narrow = narrow.fit_transform(texts)
    ngrams = LogisticRegression(C=NGRAM_C, max_iter=5000, class_weight="balanced").fit(x_narrow, y)
    vectors = np.array([ex.prepared.vector for ex in examples])
    scaler = StandardScaler().fit(vectors)
    dense = LogisticRegression(C=VECTOR_C, max_iter=5000, class_weight="balanced").fit(
        scaler.transform(vectors), y
    )
    # standardisation folded into the weights: w·((x − μ)/σ) + b = (w/σ)·x + (b − w·μ/σ)
    vector_coef = dense.coef_[0] / scaler.scale_
    vector_intercept = float(dense.intercept_[0] - vector_coef @ scaler.mean_)
    return DomainModel(
        tuple(kept),
        tuple(float(v) for v in narrow.idf_),
        tuple(float(v) for v in ngrams.coef_[0]),
        float(ngrams.intercept_[0]),
        tuple(float(v) for v in vector_coef),
        vector_intercept,
    )


def assign_folds(items: Sequence[dict[str, Any]], k: int, seed: int = 0) -> list[int]:
    """A fold number per item, stratified by type and source file (``_file``), shuffled."""
    import random

    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    strata: dict[str, list[int]] = {}
    for i in order:
        key = f"{items[i].get('type') or ANSWERABLE}/{items[i].get('_file', '')}"
        strata.setdefault(key, []).append(i)
    fold = [0] * len(items)
    position = 0
    for members in strata.values():
        for i in members:
            fold[i] = position % k
            position += 1
    return fold


def choose_threshold(probabilities: Sequence[float], correct: Sequence[bool]) -> float:
    """The threshold maximising correct answers − ``WRONG_COST`` × wrong answers."""
    pairs = sorted(zip(probabilities, correct, strict=True), key=lambda p: -p[0])
    best_gain, best_t, gain = 0.0, 1.0, 0.0
    for i, (p, ok) in enumerate(pairs):
        gain += 1.0 if ok else -WRONG_COST
        next_p = pairs[i + 1][0] if i + 1 < len(pairs) else 0.0
        if gain > best_gain and next_p < p:
            best_gain, best_t = gain, (p + next_p) / 2
    return round(best_t, 4)


def _cross_fitted(
    examples: Sequence[Example],
    fold: Sequence[int],
    label: Callable[[Example], bool],
    train_on: Callable[[Example], bool],
    folds: int,
) -> list[tuple[float, float]]:
    """Each example's two logits from a text model fitted on the other folds' ``train_on``."""
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(examples)
    for f in range(folds):
        train = [ex for ex, g in zip(examples, fold, strict=True) if g != f and train_on(ex)]
        model = fit_domain(train, label)
        for i, ex in enumerate(examples):
            if fold[i] == f:
                out[i] = model.logits(ex.prepared.text, ex.prepared.vector)
    return out


def fit(
    examples: Sequence[Example],
    *,
    folds: int = 5,
    seed: int = 0,
    info: dict[str, Any] | None = None,
) -> AnswerModel:
    """Fit the whole answering model on ``examples`` (see the module docstring)."""
    ranker = fit_ranker(examples)
    fold = assign_folds([ex.item for ex in examples], folds, seed)
    cross_domain = _cross_fitted(examples, fold, in_scope, lambda _: True, folds)
    cross_case = _cross_fitted(examples, fold, answerable, in_scope, folds)
    rows: list[list[float]] = []
    correct: list[bool] = []
    for i, ex in enumerate(examples):
        ranked = decision.rank(ex.prepared.pool, ranker)
        if not ranked or ex.prepared.parts is None:
            continue
        rows.append(
            decision.features(
                ex.prepared.parts,
                ranked,
                ex.prepared.cues,
                cross_domain[i] + cross_case[i],
                ex.prepared.laws,
            )
        )
        correct.append(ex.correct_if_answered(ranked))
    strength, threshold = _strength_and_threshold(rows, correct, folds, seed)
    chosen = _logistic(decision.FEATURES, rows, correct, c=strength, balanced=False)
    meta = {
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "questions": len(examples),
        "wrong_cost": WRONG_COST,
        "decision_c": strength,
        **(info or {}),
    }
    return AnswerModel(
        ranker,
        fit_domain(examples, in_scope),
        chosen,
        threshold,
        fit_domain([ex for ex in examples if in_scope(ex)], answerable),
        meta,
    )
