"""The desk's side of a conversation: each asker's frame read before a turn is answered and
written after, in the escalation store (so every worker sees it), and the line saying how a
follow-up was understood ("您问的是：…")."""

from __future__ import annotations

import logging
from datetime import timedelta

import prompts
from core.answers import Answer, EscalationReason
from core.errors import StoreUnavailable
from core.people import UserRef
from escalation.store import EscalationStore
from knowledge.followup import Completion, Frame, complete

log = logging.getLogger(__name__)

FOLLOW_UP_WITHIN = timedelta(minutes=10)


class Conversations:
    """``within``: how long after a question a turn may still follow on from it."""

    def __init__(self, store: EscalationStore, within: timedelta = FOLLOW_UP_WITHIN) -> None:
        self._store = store
        self._within = within

    def complete(self, user: UserRef, turn: str) -> Completion:
        """``turn`` completed from the asker's recent frame when it is a follow-up (without the
        store, the turn as it is)."""
        try:
            stored = self._store.run(
                lambda tx: tx.conversations.get(user, self._within), what="frame"
            )
        except StoreUnavailable:
            stored = None
        frame = Frame(stored.question, stored.slots) if stored else None
        done = complete(frame, turn)
        if done.completed:
            log.info("follow-up completed slots=%s", ",".join(sorted(done.frame.slots)))
        return done

    def remember(self, user: UserRef, turn: Completion, answer: Answer) -> None:
        """Keep what this turn was about for the next one (not for a refused turn)."""
        if answer.reason is EscalationReason.INVALID:
            return
        frame = turn.frame
        try:
            self._store.run(
                lambda tx: tx.conversations.save(user, frame.question, frame.slots),
                what="frame",
            )
        except StoreUnavailable:  # the next turn is then taken on its own
            log.warning("conversation frame not kept: store unavailable")


def understood(turn: Completion) -> str:
    """The line above a reply to a completed follow-up, else nothing."""
    if not turn.completed:
        return ""
    return prompts.text("conversation.understood", question=turn.question) + "\n"
