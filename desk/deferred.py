"""Questions the database could not take: told honestly, kept on disk, stored when it is back.

When the escalation store stays unavailable after its retries (see ``escalation.retry``), the
desk does not pretend: the asker reads either the library's answer — it needs no database —
with a note that it cannot be rated or sent to an expert just now, or, for a question that
needs an expert, that it is kept and will be handed to one. The question goes to the
:class:`~desk.spool.QuestionSpool`; :meth:`DeferredQuestions.drain` (run periodically by the
server) stores each one as it would have been stored then, at the time it was asked, and for
an escalation queues a reply to the asker naming their ticket (``DESK_REPLY``), in the same
transaction. When even the disk refuses, the asker is told the question was not kept.
"""

from __future__ import annotations

import logging
from functools import partial

import prompts
from core.answers import Answer, Decision
from core.errors import StoreUnavailable
from core.people import UserRef
from core.ports import Clock
from core.tickets import NotificationKind
from desk import texts
from desk.api import Reply
from desk.questions import QuestionRecorder
from desk.spool import QuestionSpool, SpooledQuestion
from escalation.store import EscalationStore, Transaction

log = logging.getLogger(__name__)


class DeferredQuestions:
    """``recorder`` stores each drained question as the desk stores one asked now."""

    def __init__(
        self,
        spool: QuestionSpool | None,
        store: EscalationStore,
        clock: Clock,
        recorder: QuestionRecorder,
    ) -> None:
        self.spool = spool
        self._store = store
        self._clock = clock
        self._recorder = recorder

    def keep(self, user: UserRef, question: str, answer: Answer, typed: str | None = None) -> Reply:
        """The honest reply to a question the store could not take, kept on disk if it can
        (``typed``: what the asker typed, when ``question`` completed a follow-up)."""
        spooled = None
        if self.spool is not None:
            try:
                spooled = self.spool.put(user, question, answer, self._clock.now(), typed)
            except OSError:
                log.exception("question not kept user=%s", user.key)
        if spooled is None:
            return Reply(0, prompts.text("desk.spool.lost"), answer, offer_feedback=False)
        log.warning(
            "question kept on disk spool_id=%s user=%s decision=%s",
            spooled,
            user.key,
            answer.decision.value,
        )
        if answer.decision is Decision.ANSWER:
            text = f"{answer.text}\n\n{prompts.text('desk.spool.answered_note')}"
        else:
            text = prompts.text("desk.spool.escalation_kept")
        return Reply(0, text, answer, offer_feedback=False)

    def waiting(self) -> int:
        return self.spool.count() if self.spool is not None else 0

    def drain(self, limit: int = 100) -> int:
        """Store the questions kept on disk, oldest first, until the store fails again; how
        many were stored."""
        if self.spool is None or not self.spool.count() or not self._store.available():
            return 0
        stored = 0
        with self.spool.draining() as mine:
            if not mine:
                return 0
            for entry in self.spool.pending(limit):
                try:
                    self._store.run(partial(self._drain_one, entry=entry), what="spooled")
                except StoreUnavailable:
                    log.info("spool drain paused stored=%d", stored)
                    break
                self.spool.remove(entry.spool_id)
                stored += 1
        if stored:
            log.info("spool drained stored=%d waiting=%d", stored, self.spool.count())
        return stored

    def _drain_one(self, tx: Transaction, entry: SpooledQuestion) -> None:
        if tx.spooled.drained(entry.spool_id):
            return
        tx.people.mark_inbound(entry.user, at=entry.asked_at)  # the user wrote then
        iid, ticket, repeated = self._recorder.question(
            tx, entry.user, entry.question, entry.answer, entry.asked_at, entry.typed
        )
        if not entry.replied:
            body = (
                texts.escalated_reply(ticket, entry.answer, repeated)
                if ticket is not None
                else entry.answer.text
            )
            intro = prompts.text("desk.spool.late_intro", question=entry.question)
            tx.outbox.enqueue(
                NotificationKind.DESK_REPLY,
                entry.user,
                f"{intro}\n\n{body}",
                ticket_id=ticket.ticket_id if ticket else None,
                data={"interaction_id": str(iid), "feedback": "0" if ticket else "1"},
            )
        tx.spooled.mark_drained(entry.spool_id, iid)
        log.info(
            "spooled question stored spool_id=%s interaction=%s ticket=%s",
            entry.spool_id,
            iid,
            ticket.ticket_id if ticket else None,
        )
