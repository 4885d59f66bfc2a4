"""Questions too vague to answer or to route ("想办个证，怎么弄", "质量这块有啥要求"): one short
question back with choices.

The rule is general, not a list of questions: a short question is vague when it names one of
the general words of ``data/clarify.tsv`` (证, 认证, 检测, 质量, 标准, 计量…) and nothing more
specific — no product, no named requirement (3C认证, 生产许可证…), no channel or kind of
business of ``data/followup.tsv`` beyond it. The choices are written under that word in the
table, each standing for a complete question; the last choice is always an expert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import prompts
from core.answers import Answer, Decision
from knowledge.followup import read_slots

MAX_VAGUE_CHARS = 20
MAX_CHOICES = 4
_NOISE = (
    "这块",
    "这方面",
    "方面",
    "相关",
    "问问",
    "问一下",
    "咨询",
    "请问",
    "问题",
    "怎么",
    "如何",
    "哪些",
    "一个",
    "个",
    "弄",
    "搞",
    "有",
)
_SPECIFIC = re.compile(r"[A-Za-z0-9]{2,}|《")  # a number, a standard, a law named


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    question: str  # the complete question the choice stands for ("" for an expert)


@dataclass(frozen=True, slots=True)
class Clarification:
    term: str  # the general word the question rested on
    choices: tuple[Choice, ...]


@cache
def _table() -> dict[str, tuple[Choice, ...]]:
    text = resources.files("knowledge").joinpath("data", "clarify.tsv").read_text("utf-8")
    rows: dict[str, list[Choice]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, label, question = line.split("\t")
        rows.setdefault(term, []).append(Choice(label, question))
    return {t: tuple(c[: MAX_CHOICES - 1]) for t, c in rows.items()}


def clarification(question: str) -> Clarification | None:
    """The clarifying round for a vague ``question`` (normalised), else None."""
    text = question.strip()
    if len(text) > MAX_VAGUE_CHARS or _SPECIFIC.search(text):
        return None
    terms = [t for t in sorted(_table(), key=len, reverse=True) if t in text]
    if not terms:
        return None
    term = terms[0]
    rest = text
    for t in terms:
        rest = rest.replace(t, "|")
    for noise in _NOISE:
        rest = rest.replace(noise, "|")
    slots, product = read_slots(rest)
    if product or set(slots) - {"ask"}:
        return None  # names what it is about: not vague
    return Clarification(term, _table()[term])


def labels(vague: Clarification) -> tuple[str, ...]:
    """What the asker may pick: the table's choices, then an expert."""
    return (*(c.label for c in vague.choices), prompts.text("conversation.clarify_expert"))


def clarifying_answer(question: str, vague: Clarification) -> Answer:
    """The reply to a vague question: which of these, numbered (回复 1/2/3 on WeChat; the
    channels may show buttons instead of reading the numbers)."""
    picks = labels(vague)
    lines = [prompts.text("conversation.clarify_lead", term=vague.term)]
    lines += [
        prompts.text("conversation.clarify_line", n=i, label=label)
        for i, label in enumerate(picks, 1)
    ]
    lines.append(
        prompts.text(
            "conversation.clarify_hint", numbers="/".join(str(i) for i in range(1, len(picks) + 1))
        )
    )
    return Answer(question, Decision.CLARIFY, "\n".join(lines), choices=picks)
