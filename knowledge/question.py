"""What a question asks, as opposed to the story around it (small pure functions).

Real questions are often a story ("试了几件衣服…第二天…可以让她退款吗？") or an exam item
("下列说法正确的是？A…B…C…D…"). Searching with every word of the story lets names, dates
and details decide; the desk searches with the *focus* — the sentences that ask — and, for an
exam item, with its stem and each option, and keeps the whole text for context.

``answer_kind`` names what a reply must contain for a few common kinds of question (a period
for 多久/期限, an amount for 罚多少/赔多少, an obligation for 要不要/能不能, a body for 找谁/哪个
部门); ``has_kind`` tells whether a passage contains such a thing. Both are features of the
learned ranking and decision (``knowledge.ranking``, ``knowledge.decision``), not rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_ASKING = re.compile(
    r"[?？]|吗|呢|么|怎样|怎么|如何|为何|为什么|是否|能否|可否|可以|能不能|可不可以|要不要|"
    r"需不需要|需要|应当|应该|有没有|是不是|算不算|多少|多久|几天|哪些|哪个|哪里|什么|谁"
)
# "A．…", "(A)…", "A: …", "A、…": an option label followed by its text.
_OPTION = re.compile(
    r"(?:^|(?<=[\s。；;：:？?）)]))[（(]?([A-Ea-e])[)）]?\s*[．.、:：]\s*|[（(]([A-E])[)）]"
)

_KINDS: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "period",
        re.compile(
            r"多久|多长时间|几天|几年|几个月|期限|时限|有效期|保质期多|多少天|多少年|什么时候"
        ),
        re.compile(r"[0-9一二三四五六七八九十百]+\s*(?:日|天|个月|月|年|小时|个工作日)"),
    ),
    (
        "amount",
        re.compile(
            r"罚多少|赔多少|罚款多少|多少钱|赔偿多少|几倍|多少倍|怎么罚|如何处罚|怎么处罚|罚款"
        ),
        re.compile(r"罚款|倍|元|罚金|赔偿金|没收"),
    ),
    (
        "obligation",
        re.compile(
            r"要不要|需不需要|需要|必须|能不能|可不可以|可以|能否|是否|允许|行不行|有没有权|有权"
        ),
        re.compile(r"应当|必须|不得|禁止|有权|可以|免予|无需|不需要|由.{0,10}负责"),
    ),
    (
        "body",
        re.compile(r"找谁|哪个部门|哪个单位|哪里投诉|向谁|谁来|谁负责|哪个机构|什么部门"),
        re.compile(r"部门|机构|委员会|人民政府|协会|法院|行政机关"),
    ),
)


# A law named in a question: 《…》, or "…法" before 第/规定/条/中/的.
_LAW_NAME = re.compile(
    r"《([^》]{2,30})》|((?:中华人民共和国)?[\u4e00-\u9fff]{1,12}?(?:法典|法|条例|办法))(?=第|规定|条|中|的规定|关于)"
)


# Words ending in 法 that name no law (下列说法中…, 这种做法的…, 违法的规定…).
_NOT_A_LAW = re.compile(r"(?:说|做|看|想|写|用|合|违|非|依|守|执|立|司|方|手|算|语|书|章|兵)法$")


def named_laws(text: str) -> tuple[str, ...]:
    """The laws and regulations a question names (《产品质量法》, 刑法第…), as written."""
    names = (m.group(1) or m.group(2) for m in _LAW_NAME.finditer(text))
    return tuple(dict.fromkeys(n for n in names if not _NOT_A_LAW.search(n)))


@dataclass(frozen=True, slots=True)
class QuestionParts:
    text: str  # the whole (normalised) question
    focus: str  # the sentences that ask; the whole text when it is short
    options: tuple[str, ...]  # an exam item's options, else ()
    kinds: tuple[str, ...]  # what the reply must contain (see module docstring)

    @property
    def is_exam(self) -> bool:
        return len(self.options) >= 2


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def split_options(text: str) -> tuple[str, tuple[str, ...]]:
    """An exam item's stem and options; (text, ()) when there are fewer than two options."""
    marks = list(_OPTION.finditer(text))
    labels = [(m.group(1) or m.group(2) or "").upper() for m in marks]
    # options are labelled A, B, C… in order; anything else is a stray letter
    run: list[re.Match[str]] = []
    for mark, label in zip(marks, labels, strict=True):
        if ord(label) - ord("A") == len(run):
            run.append(mark)
    if len(run) < 2:
        return text, ()
    stem = text[: run[0].start()].strip()
    bounds = [m.end() for m in run]
    ends = [m.start() for m in run[1:]] + [len(text)]
    options = tuple(text[b:e].strip(" ；;。，,") for b, e in zip(bounds, ends, strict=True))
    return stem, tuple(o for o in options if o)


def focus_of(text: str, max_chars: int = 80) -> str:
    """The asking part of a question: the last sentences that ask, within ``max_chars``.

    A short question is its own focus. In a longer one the sentences that ask (a question
    mark, 吗/呢, 怎么/如何/是否/可以 …) are kept, the last first, while they fit; with none, the
    last sentence.
    """
    if len(text) <= max_chars:
        return text
    parts = sentences(text)
    asking = [s for s in parts if _ASKING.search(s)] or parts[-1:]
    chosen: list[str] = []
    length = 0
    for sentence in reversed(asking):
        if chosen and length + len(sentence) > max_chars:
            break
        chosen.insert(0, sentence)
        length += len(sentence)
    return "".join(chosen)[-max_chars * 2 :]


def answer_kinds(text: str) -> tuple[str, ...]:
    return tuple(name for name, asks, _ in _KINDS if asks.search(text))


def has_kind(passage: str, kind: str) -> bool:
    """Whether ``passage`` contains what a question of ``kind`` asks for."""
    for name, _, found in _KINDS:
        if name == kind:
            return bool(found.search(passage))
    return False


def analyse(text: str) -> QuestionParts:
    """Split a normalised question into what the search and the decision use."""
    stem, options = split_options(text)
    focus = focus_of(stem if options else text)
    return QuestionParts(text, focus, options, answer_kinds(focus))


def embedding_text(parts: QuestionParts, max_chars: int = 128) -> str:
    """What is embedded for a question: the whole of a short one; for a long one its asking
    sentences, preceded by as much of its opening as fits in ``max_chars`` (the subject is
    usually named first). Embedding time grows with length: 280 characters take about three
    times as long as 100 on one core, and a long story dilutes what is asked."""
    if len(parts.text) <= max_chars:
        return parts.text
    focus = parts.focus[-max_chars:]
    return parts.text[: max_chars - len(focus)] + focus
