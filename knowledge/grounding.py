"""The grounding check: is a composed sentence supported by the passages it cites?

No model. A sentence written by a language model passes only if

1. it cites at least one passage, and every number it cites was supplied;
2. its character bigrams are covered by the cited passages (``knowledge.text.bigram_coverage``)
   at or above ``COVERAGE_THRESHOLD``;
3. every number it writes occurs in the cited passages as a whole number: Arabic (26), a run of
   Chinese numerals (二十六), or a single numeral with its measure word (七日, 三倍, 一年) —
   a lone 一 elsewhere is a word (统一, 一律), not a number;
4. every negation it writes (不, 无, 未, 非, 免, 否, 没, 勿, 禁止 …), read with the character
   after it, occurs so in the cited passages: "不应当" where the passage says "应当" fails;
   and no phrase the passages only ever negate appears without its negation: "可以出厂" where
   the passage says "不得出厂" fails.

A sentence that fails is dropped by the composer (``knowledge.llm_composer``); an answer left
with nothing goes out as the extractive one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.numerals import NUMERAL_CHARS
from core.text import compact
from knowledge.text import bigram_coverage

COVERAGE_THRESHOLD = 0.5
"""Least share of a sentence's character bigrams its cited passages must contain.

Tuned with ``python -m bench.grounding_bench`` on dev.jsonl and train.jsonl (54 questions the
desk answers with the reference evidence among its quoted passages; 107 sentences of their
reference answers, which paraphrase freely): scored against the right passages / against the
passages of another question, the share kept was 0.3: 71% / 2.8%, 0.4: 67% / 0.9%,
0.5: 59% / 0%, 0.6: 49% / 0%. 0.5 is the lowest value that let no wrong-passage sentence
through; the number and negation checks come on top.
"""

_AFTER_ONE = "日天周月年倍"
_MEASURES = _AFTER_ONE + "岁元个项次条款名件份级类种"
"""Measure words after which a single Chinese numeral is a number (七日, 三倍, 二级); 一 only
before a period or 倍 (``_AFTER_ONE``: 一年, 一倍), since 一个, 一项, 一次 are as often plain
words. A lone 零 or 〇 is never a number."""
_CHINESE = f"{NUMERAL_CHARS}万亿"
_SINGLE = "".join(ch for ch in NUMERAL_CHARS if ch not in "零〇○一")
_NUMBER = re.compile(
    rf"\d+(?:\.\d+)?|[{_CHINESE}]{{2,}}"
    rf"|(?<![{_CHINESE}])(?:[{_SINGLE}][{_MEASURES}]|一[{_AFTER_ONE}])"
)
_NEGATIONS = (
    "不得",
    "不能",
    "禁止",
    "严禁",
    "没有",
    "不",
    "无",
    "未",
    "非",
    "免",
    "否",
    "没",
    "勿",
)
_NEGATION = re.compile("|".join(_NEGATIONS))


class Failure:
    """Why a sentence fails the check (``Grounding.reason``)."""

    EMPTY = "empty"
    NO_CITATION = "no_citation"
    UNKNOWN_CITATION = "unknown_citation"
    LOW_COVERAGE = "low_coverage"
    NUMBER = "number"
    NEGATION = "negation"


@dataclass(frozen=True, slots=True)
class Grounding:
    """The check's verdict on one sentence: ``ok``, or the first ``reason`` it fails."""

    ok: bool
    reason: str = ""
    coverage: float = 0.0
    detail: str = ""  # the number or negation the passages lack


def numbers(text: str) -> list[str]:
    """Numbers a text writes: Arabic (26, 3.5), runs of Chinese numerals (二十六) and single
    numerals with their measure word (七日)."""
    return _NUMBER.findall(text)


def negations(text: str) -> list[str]:
    """Each negation of a compacted text with the character after it ("不得销" → "不得销")."""
    found = []
    for match in _NEGATION.finditer(text):
        found.append(text[match.start() : match.end() + 1])
    return found


def check_sentence(
    sentence: str,
    cites: Sequence[int],
    passages: Mapping[int, str],
    threshold: float = COVERAGE_THRESHOLD,
) -> Grounding:
    """Whether ``sentence``, citing passage numbers ``cites``, rests on ``passages``.

    ``passages`` maps the numbers the model was given to the passage texts. The checks run in
    the order of the module docstring; the first failure is returned.
    """
    body = compact(sentence)
    if not body:
        return Grounding(False, Failure.EMPTY)
    if not cites:
        return Grounding(False, Failure.NO_CITATION)
    unknown = [c for c in cites if c not in passages]
    if unknown:
        return Grounding(False, Failure.UNKNOWN_CITATION, detail=str(unknown[0]))
    source = "\n".join(passages[c] for c in dict.fromkeys(cites))
    covered = bigram_coverage(sentence, source)
    if covered < threshold:
        return Grounding(False, Failure.LOW_COVERAGE, covered)
    plain = unicodedata.normalize("NFKC", source)
    for number in numbers(unicodedata.normalize("NFKC", sentence)):
        if not _has_number(number, plain):
            return Grounding(False, Failure.NUMBER, covered, number)
    flat = compact(source)
    for negation in negations(body):
        if negation not in flat:
            return Grounding(False, Failure.NEGATION, covered, negation)
    dropped = dropped_negation(body, flat)
    if dropped:
        return Grounding(False, Failure.NEGATION, covered, dropped)
    return Grounding(True, "", covered)


def dropped_negation(body: str, source: str) -> str:
    """A negated phrase of the source the sentence writes without its negation ("不得出厂" →
    "可以出厂"): the two characters after a negation of the (compacted) source, found in the
    (compacted) sentence with no negation before them, while the source never writes them
    un-negated. The negated phrase, or "" when there is none."""
    for match in _NEGATION.finditer(source):
        phrase = source[match.end() : match.end() + 2]
        if len(phrase) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in phrase):
            continue
        if all(_negated(source, at) for at in _positions(source, phrase)) and not all(
            _negated(body, at) for at in _positions(body, phrase)
        ):
            return match.group() + phrase
    return ""


def _positions(text: str, phrase: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(phrase), text)]


def _negated(text: str, at: int) -> bool:
    return any(text[:at].endswith(word) for word in _NEGATIONS)


def _has_number(number: str, source: str) -> bool:
    """The number occurs in the source as a whole number: 26 is not found in 260 or 126, 二十
    not in 一百二十, 三倍 not in 十三倍."""
    if number[0].isdigit():
        pattern = rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)"
    else:
        pattern = rf"(?<![{_CHINESE}]){re.escape(number)}"
        if number[-1] in _CHINESE:
            pattern += rf"(?![{_CHINESE}])"
    return re.search(pattern, source) is not None
