"""The fitted parameters of the answering: ranking, domain model, decision, threshold.

All three are logistic models fitted with scikit-learn by ``qadesk fit`` (``knowledge.fitting``)
from the evaluation files, and stored as plain numbers in one small JSON file in the repo
(``knowledge/data/answer-model.json``): nothing is fitted at start-up, and a model made by
another version of scikit-learn loads all the same.

- ``ranker``: scores a candidate passage from its retrieval features (``retrieval.FEATURES``);
  fitted on which candidates hold the labelled evidence (pointwise learning to rank).
- ``domain``: how strongly a question belongs to the library's subjects, from its character
  n-grams (TF-IDF, a vocabulary chosen by an L1 fit) and from its embedding; fitted on real
  questions in scope against real questions from other areas of law.
- ``case``: the same kind of model, fitted on the questions in scope: answerable from a clause,
  or a case of the asker's own that needs an expert's judgement.
- ``decision``: the probability that the best passages answer the question
  (``decision.FEATURES``); the desk answers at or above ``threshold``, chosen on the
  cross-validated curve (see ``knowledge.fitting.choose_threshold``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

MODEL_FILE = "answer-model.json"


def sigmoid(z: float) -> float:
    if z < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Logistic:
    """A logistic model over standardised features: ``logit = ((x - mean) / scale) · coef + b``."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def logit(self, x: Sequence[float]) -> float:
        z = self.intercept
        for value, mu, sd, w in zip(x, self.mean, self.scale, self.coef, strict=True):
            z += (value - mu) / sd * w
        return z

    def probability(self, x: Sequence[float]) -> float:
        return sigmoid(self.logit(x))

    def weights(self) -> dict[str, float]:
        """Each feature's weight per standard deviation (for the README and debugging)."""
        return dict(zip(self.names, self.coef, strict=True))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Logistic:
        return cls(
            tuple(data["names"]),
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["coef"]),
            float(data["intercept"]),
        )


@dataclass(frozen=True)
class DomainModel:
    """Is a question about the library's subjects? Two logits: character n-grams and embedding."""

    ngrams: tuple[str, ...]  # the vocabulary, in column order
    idf: tuple[float, ...]
    ngram_coef: tuple[float, ...]
    ngram_intercept: float
    vector_coef: tuple[float, ...]  # over the question's embedding
    vector_intercept: float
    ngram_range: tuple[int, int] = (1, 3)

    @cached_property
    def _vectorizer(self) -> Any:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(
            analyzer="char",
            ngram_range=self.ngram_range,
            sublinear_tf=True,
            vocabulary={g: i for i, g in enumerate(self.ngrams)},
        )
        vec.idf_ = np.asarray(self.idf, dtype=np.float64)
        return vec

    def ngram_logit(self, text: str) -> float:
        row = self._vectorizer.transform([text])
        z = self.ngram_intercept
        for col, value in zip(row.indices, row.data, strict=True):
            z += float(value) * self.ngram_coef[int(col)]
        return z

    def logits(self, text: str, vector: Sequence[float]) -> tuple[float, float]:
        """Both views of a question. An embedding of another size than the one fitted (another
        embedding model is configured: refit with ``qadesk fit``) cannot be read: the n-gram
        view then stands for both."""
        ngrams = self.ngram_logit(text)
        if len(vector) != len(self.vector_coef):
            return ngrams, ngrams
        return ngrams, self.vector_logit(vector)

    def vector_logit(self, vector: Sequence[float]) -> float:
        return self.vector_intercept + sum(
            a * b for a, b in zip(vector, self.vector_coef, strict=True)
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainModel:
        return cls(
            tuple(data["ngrams"]),
            tuple(data["idf"]),
            tuple(data["ngram_coef"]),
            float(data["ngram_intercept"]),
            tuple(data["vector_coef"]),
            float(data["vector_intercept"]),
            (int(data["ngram_range"][0]), int(data["ngram_range"][1])),
        )


@dataclass(frozen=True)
class AnswerModel:
    ranker: Logistic
    domain: DomainModel
    decision: Logistic
    threshold: float
    case: DomainModel  # answerable from a clause (high) or a case for an expert (low)
    info: dict[str, Any] = field(default_factory=dict)  # what it was fitted on, when, figures

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AnswerModel:
        data = json.loads(text)
        return cls(
            Logistic.from_dict(data["ranker"]),
            DomainModel.from_dict(data["domain"]),
            Logistic.from_dict(data["decision"]),
            float(data["threshold"]),
            DomainModel.from_dict(data["case"]),
            dict(data.get("info") or {}),
        )

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)


def load_model(path: Path | None = None) -> AnswerModel:
    """The model at ``path``, or the one shipped with the package."""
    if path is not None:
        return AnswerModel.from_json(path.read_text(encoding="utf-8"))
    shipped = resources.files("knowledge").joinpath("data", MODEL_FILE)
    return AnswerModel.from_json(shipped.read_text(encoding="utf-8"))
