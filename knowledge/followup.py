"""Follow-up turns completed from the conversation's frame, without an LLM.

On a phone people ask "我卖的充电宝要3C认证吗？" and then "那网上卖的呢？" or "罚多少". A *frame* holds
what the conversation is about — product, requirement, channel, region, kind of business and
what is asked (a penalty, a period, a place) — read from each turn with the vocabulary in
``data/followup.tsv`` (the product is what is left of a short phrase once those and the
function words are taken out). A turn that only makes sense with the one before (short, opens
with 那/还有/如果/要是 or ends with 呢, and does not name both a subject and a requirement of
its own) replaces in the frame only what it names; the completed question is written from the
frame ("网上销售充电宝是否需要3C认证") and used for everything after.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from knowledge.judgement import small_talk

MAX_TURN_CHARS = 18  # a longer turn says enough on its own
SLOTS = ("region", "channel", "business", "product", "requirement", "ask")
_OPENERS = re.compile(r"^(?:那么|那要是|那如果|那假如|那|还有|另外|如果|要是|假如|换成|改成|换做)+")
_CLOSERS = re.compile(r"(?:的话呢|的话|呢|吗|嘛|呀|啊|[?？。!！,，\s])+$")
_FILLERS = (
    "要不要",
    "需不需要",
    "有没有",
    "是不是",
    "是否",
    "需要",
    "我们",
    "我家",
    "咱们",
    "这个",
    "那个",
    "一下",
    "的话",
    "还是",
    "怎么",
    "怎样",
    "如何",
    "可以",
    "生产",
    "销售",
    "经营",
    "加工",
    "办",
    "同样",
    "没有",
    "没",
    "未",
    "也",
    "我",
    "的",
    "卖",
    "售",
    "做",
    "开",
    "是",
    "在",
    "要",
    "想",
    "了",
    "还",
    "都",
    "吗",
    "呢",
    "什么",
    "啥",
)
_CLOSING = re.compile(
    r"(?:好|行|算|就这样|不用|没事|知道|明白|谢谢|多谢|可以|嗯|哦|噢|了|吧|啦|的)+"
)
_CJK_RUN = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{2,8}")


@dataclass(frozen=True, slots=True)
class Frame:
    """What the conversation is about: the last completed question and its slots."""

    question: str
    slots: dict[str, str] = field(default_factory=dict)  # slot → term


@dataclass(frozen=True, slots=True)
class Completion:
    """A turn as asked and the question the desk works with (the same when not a follow-up)."""

    turn: str
    question: str
    frame: Frame
    to_expert: bool = False  # the asker chose 转人工 in a clarifying round
    clarified: bool = False  # a clarifying round came just before: there is no second one

    @property
    def completed(self) -> bool:
        return self.question != self.turn


@cache
def _vocabulary() -> tuple[tuple[str, str, str], ...]:
    """(slot, term, phrase) rows, longest term first."""
    text = resources.files("knowledge").joinpath("data", "followup.tsv").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        rows.append((parts[0], parts[1], parts[2] if len(parts) > 2 and parts[2] else parts[1]))
    return tuple(sorted(rows, key=lambda r: -len(r[1])))


def _phrase(slot: str, term: str) -> str:
    return next((p for s, t, p in _vocabulary() if s == slot and t == term), term)


def read_slots(text: str) -> tuple[dict[str, str], str]:
    """The slots ``text`` names (first mention of each, longest terms first) and the product:
    the longest run of 2–8 characters left once slot terms and function words are out."""
    slots: dict[str, str] = {}
    rest = text
    for slot, term, _ in _vocabulary():
        at = rest.upper().find(term.upper())
        if at < 0:
            continue
        slots.setdefault(slot, term)
        rest = rest[:at] + "\0" + rest[at + len(term) :]
    for filler in _FILLERS:
        rest = rest.replace(filler, "|")
    before = rest.split("\0")[0] if "\0" in rest else ""
    runs = _CJK_RUN.findall(before) or _CJK_RUN.findall(rest)
    # the subject is usually what comes right before the first named slot (水表 in
    # 家里用的水表要强制检定吗); otherwise the longest run left
    product = runs[-1] if before and runs else (max(runs, key=len) if runs else "")
    return slots, product


def frame_of(question: str) -> Frame:
    """The frame a question opens by itself (a long question keeps no product: too unsure)."""
    slots, product = read_slots(question)
    if product and len(question) <= 40:
        slots["product"] = product
    return Frame(question, slots)


def _core(turn: str) -> str:
    core = _CLOSERS.sub("", _OPENERS.sub("", turn.strip()))
    return _CLOSERS.sub("", core)


def is_follow_up(turn: str) -> bool:
    """A turn that only makes sense with the one before: short, and either marked as a
    follow-up (那…, 还有…, 如果…, 要是…, …呢) or naming nothing but what is asked or required;
    a turn naming a subject and a requirement of its own stands alone."""
    text = turn.strip()
    if not text or len(text) > MAX_TURN_CHARS:
        return False
    core = _core(text)
    if not core or _CLOSING.fullmatch(core) or small_talk(text) or small_talk(core):
        return False  # 那好吧, 那谢谢了, 那算了: the conversation ends rather than goes on
    slots, product = read_slots(core)
    if product and "requirement" in slots:
        return False  # 那电动车要3C吗: a question of its own
    marked = bool(_OPENERS.match(text)) or bool(re.search(r"呢[?？。!！\s]*$", text))
    return marked or (not product and bool(slots) and set(slots) <= {"ask", "requirement"})


def complete(frame: Frame | None, turn: str) -> Completion:
    """``turn`` completed from ``frame`` when it is a follow-up; otherwise the turn itself
    (and the frame it opens).

    What the turn names replaces the same slot in the earlier question's words when that
    question says it ("那加油机呢" after "店里的电子秤要强制检定吗"); a slot the earlier
    question did not have makes the question be written from the frame; a turn whose words
    are not in the frame's vocabulary goes before the earlier question (the usual baseline).
    """
    if frame is None or not is_follow_up(turn):
        return Completion(turn, turn, frame_of(turn))
    core = _core(turn)
    slots, product = read_slots(core)
    if product:
        slots["product"] = _edges(_subject(core, slots)) or product
    merged = dict(frame.slots)
    if "requirement" in slots and "ask" not in slots:
        merged.pop("ask", None)  # 那要3C吗 after 罚多少: asks about the requirement now
    merged.update(slots)
    earlier = frame.question
    asks_anew = "requirement" in slots and "ask" not in slots and "ask" in frame.slots
    if (
        slots
        and not asks_anew
        and "ask" not in slots  # what is asked changes the sentence: written from the frame
        and all(frame.slots.get(k) and frame.slots[k] in earlier for k in slots)
    ):
        question = earlier
        for slot, term in slots.items():
            question = question.replace(frame.slots[slot], term, 1)
    elif set(slots) - {"product"} and ("requirement" in merged or "ask" in merged):
        question = render(merged)
    else:
        question = f"{core}，{earlier}"  # 生产者，产品质量有问题销售者要负责吗
    return Completion(turn, question, Frame(question, merged))


def _subject(core: str, slots: dict[str, str]) -> str:
    rest = core
    for term in slots.values():
        rest = rest.replace(term, "")
    return rest


def _edges(text: str) -> str:
    """``text`` without function words at its ends (的, 是, 在, 卖 …): 做批发的 → 批发."""
    previous = None
    while previous != text:
        previous = text
        for filler in _FILLERS:
            text = text.removeprefix(filler).removesuffix(filler)
    return text if len(text) >= 2 else ""


def render(slots: dict[str, str]) -> str:
    """A question written from the frame: 在广东 + 网上销售 + 个体户 + 充电宝 + 是否需要3C认证."""
    head = ""
    if region := slots.get("region"):
        head += f"在{region}"
    for slot in ("channel", "business"):
        if term := slots.get(slot):
            head += _phrase(slot, term)
    head += slots.get("product", "")
    requirement = _phrase("requirement", slots["requirement"]) if "requirement" in slots else ""
    ask = _phrase("ask", slots["ask"]) if "ask" in slots else ""
    if ask and "罚" in ask:
        tail = (f"没有{requirement}" if requirement else "违规") + ask
    elif ask:
        tail = requirement + ask
    elif requirement:
        tail = f"是否需要{requirement}"
    else:
        tail = "有什么要求"
    return head + tail


def complete_turns(turns: Sequence[str], question: str) -> str:
    """``question`` as the desk completes it after the asker's earlier ``turns`` (for
    evaluation files whose lines carry ``"turns": [...]``)."""
    frame: Frame | None = None
    for turn in turns:
        frame = complete(frame, turn).frame
    return complete(frame, question).question
