"""The desk's side of a conversation: each asker's frame read before a turn is answered and
written after, in the escalation store (so every worker sees it); a clarifying question's
choices kept until the asker picks one (at most one round, then an answer or a ticket); and the
line saying how a turn was understood ("您问的是：…")."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import prompts
from core.answers import Answer, Decision, EscalationReason
from core.errors import StoreUnavailable
from core.people import UserRef
from escalation.store import EscalationStore
from knowledge.clarify import clarification
from knowledge.followup import Completion, Frame, complete, frame_of
from knowledge.text import normalize_question

log = logging.getLogger(__name__)

FOLLOW_UP_WITHIN = timedelta(minutes=10)


class Conversations:
    """``within``: how long after a question a turn may still follow on from it."""

    def __init__(self, store: EscalationStore, within: timedelta = FOLLOW_UP_WITHIN) -> None:
        self._store = store
        self._within = within

    def complete(self, user: UserRef, turn: str) -> Completion:
        """``turn`` completed from the asker's recent frame: the question a clarifying round's
        choice stands for (a number or the choice's words), or a follow-up completed; without
        the store, the turn as it is."""
        try:
            stored = self._store.run(
                lambda tx: tx.conversations.get(user, self._within), what="frame"
            )
        except StoreUnavailable:
            stored = None
        frame = Frame(stored.question, stored.slots) if stored else None
        if stored is not None and stored.clarify:
            picked = _choice(turn, stored.clarify)
            if picked is not None:
                return picked
            done = complete(frame, turn)
            return replace(done, clarified=True)
        done = complete(frame, turn)
        if done.completed:
            log.info("follow-up completed slots=%s", ",".join(sorted(done.frame.slots)))
        return done

    def answer(self, turn: Completion, answer: Callable[[str], Answer]) -> Answer:
        """The library's answer to the completed turn; a choice of 转人工, or a second vague
        question straight after a clarifying round, goes to an expert instead."""
        if turn.to_expert:
            return _to_expert(turn.question)
        found = answer(turn.question)
        if found.decision is Decision.CLARIFY and turn.clarified:  # at most one round
            return _to_expert(turn.question, found)
        return found

    def awaiting_choice(self, user: UserRef) -> bool:
        """Whether the asker's last reply was a clarifying question still open."""
        try:
            stored = self._store.run(
                lambda tx: tx.conversations.get(user, self._within), what="frame"
            )
        except StoreUnavailable:
            return False
        return bool(stored and stored.clarify)

    def remember(self, user: UserRef, turn: Completion, answer: Answer) -> None:
        """Keep what this turn was about for the next one (not for a refused turn), and a
        clarifying question's choices until the asker picks one."""
        if answer.reason is EscalationReason.INVALID:
            return
        frame, pending = turn.frame, None
        if answer.decision is Decision.CLARIFY:
            vague = clarification(normalize_question(turn.question))
            questions = [c.question for c in vague.choices] if vague else []
            pending = {
                "question": turn.question,
                "choices": [*questions, ""][: len(answer.choices)],
            }
            pending["labels"] = list(answer.choices)
        try:
            self._store.run(
                lambda tx: tx.conversations.save(user, frame.question, frame.slots, pending),
                what="frame",
            )
        except StoreUnavailable:  # the next turn is then taken on its own
            log.warning("conversation frame not kept: store unavailable")


def _choice(turn: str, pending: dict[str, Any]) -> Completion | None:
    """The choice ``turn`` makes in a clarifying round (``1``, ``２``, or a choice's words)."""
    text = unicodedata.normalize("NFKC", turn).strip().rstrip("。.!！")
    labels: list[str] = list(pending.get("labels", []))
    questions: list[str] = list(pending.get("choices", []))
    index = (
        int(text) - 1
        if text.isdigit()
        else next(
            (i for i, label in enumerate(labels) if text and (text in label or label in text)), -1
        )
    )
    if not 0 <= index < len(questions):
        return None
    original = str(pending.get("question", turn))
    if not questions[index]:  # 其他·转人工专家
        return Completion(turn, original, frame_of(original), to_expert=True, clarified=True)
    chosen = questions[index]
    return Completion(turn, chosen, frame_of(chosen), clarified=True)


def _to_expert(question: str, found: Answer | None = None) -> Answer:
    reason = EscalationReason.LOW_CONFIDENCE
    return Answer(question, Decision.ESCALATE, "", found.citations if found else (), reason=reason)


def understood(turn: Completion) -> str:
    """The line above a reply to a completed follow-up, else nothing."""
    if not turn.completed:
        return ""
    return prompts.text("conversation.understood", question=turn.question) + "\n"
