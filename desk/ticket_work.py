"""The experts' part of the desk: the queue, a ticket and its history, claiming, releasing,
reassigning, answering (queued for the asker in the same transaction), publishing an answer as
an expert FAQ entry and keeping those entries, and announcing again tickets nobody claimed.
Every call checks that its caller is staff; what changes a ticket is announced and audited.

Mixed into ``desk.service.Desk`` (like ``desk.admin.AdminConsole``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.answers import Answer, Decision, FaqEntry, FaqRecord
from core.errors import InvalidQuestion, NotPermitted, PersonNotFound
from core.people import Domain, Role, UserRef
from core.ports import Clock
from core.tickets import Ticket, TicketStatus
from desk.announce import Announcer
from desk.library_admin import LibraryAdmin
from desk.roles import require_staff, with_name
from escalation.interactions import InteractionKind
from escalation.store import EscalationStore, Transaction
from escalation.tickets import ACTIVE, TicketEvent

log = logging.getLogger(__name__)


class TicketWork:
    """Mixed into ``desk.service.Desk``."""

    _store: EscalationStore
    _clock: Clock
    _announce: Announcer
    _library: LibraryAdmin
    _reannounce_after: timedelta

    def role_of(self, user: UserRef) -> Role:
        with self._store.reading() as tx:
            return tx.people.role(user)

    def pending_tickets(self, expert: UserRef, domain: Domain | None = None) -> list[Ticket]:
        """Open tickets and those the expert holds; their own domains first, then oldest."""
        person = require_staff(self._store, expert)
        with self._store.reading() as tx:
            found = tx.tickets.find(statuses=ACTIVE, domain=domain)
        waiting = [t for t in found if t.status is TicketStatus.OPEN or t.claimed_by == expert.key]
        return sorted(waiting, key=lambda t: (not person.covers(t.domain), t.created_at))

    def tickets(
        self,
        user: UserRef,
        status: TicketStatus | None = None,
        domain: Domain | None = None,
        limit: int = 200,
    ) -> list[Ticket]:
        """Every ticket (experts and admins), oldest first."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.tickets.find(statuses=(status,) if status else (), domain=domain, limit=limit)

    def ticket(self, user: UserRef, ticket_id: int) -> Ticket:
        """One ticket: for its asker, experts, admins and the experts' shared destinations."""
        with self._store.reading() as tx:
            ticket = tx.tickets.get(ticket_id)
            if ticket.asker.key == user.key or self._may_see_all(tx, user):
                return ticket
        raise NotPermitted(f"{user.key} may not see ticket {ticket_id}")

    def ticket_events(self, user: UserRef, ticket_id: int) -> list[TicketEvent]:
        require_staff(self._store, user)
        with self._store.reading() as tx:
            tx.tickets.get(ticket_id)
            return tx.tickets.events(ticket_id)

    def claim(self, expert: UserRef, ticket_id: int) -> Ticket:
        """Take a ticket. Of experts claiming at once exactly one wins; the others get
        ``AlreadyClaimed`` naming the holder."""
        named = with_name(expert, require_staff(self._store, expert))
        with self._store.transaction() as tx:
            tx.people.touch(expert)
            ticket = tx.tickets.claim(ticket_id, named)
            self._announce.changed(tx, ticket, "claimed", ticket.claimed_by_name or "")
            tx.console.audit(named, "claim", f"ticket {ticket_id}")
        log.info("ticket claimed ticket=%s expert=%s", ticket_id, expert.key)
        return ticket

    def release(self, expert: UserRef, ticket_id: int) -> Ticket:
        person = require_staff(self._store, expert)
        with self._store.transaction() as tx:
            ticket = tx.tickets.release(ticket_id, expert, force=person.role is Role.ADMIN)
            self._announce.released(tx, ticket)
            tx.console.audit(with_name(expert, person), "release", f"ticket {ticket_id}")
        log.info("ticket released ticket=%s by=%s", ticket_id, expert.key)
        return ticket

    def reassign(self, actor: UserRef, ticket_id: int, to: UserRef) -> Ticket:
        """An admin, or the expert holding the ticket, hands it to another expert."""
        person = require_staff(self._store, actor)
        with self._store.transaction() as tx:
            target = tx.people.get(to.key)
            if target is None or not target.is_staff:
                raise PersonNotFound(f"{to.key} is not an expert or admin", person=to.key)
            current = tx.tickets.get(ticket_id)
            if person.role is not Role.ADMIN and current.claimed_by != actor.key:
                raise NotPermitted(f"{actor.key} does not hold ticket {ticket_id}")
            ticket = tx.tickets.reassign(ticket_id, actor, with_name(target.user, target))
            self._announce.assigned(tx, ticket, target.user)
            self._announce.changed(tx, ticket, "claimed", ticket.claimed_by_name or "")
            tx.console.audit(with_name(actor, person), "reassign", f"ticket {ticket_id}", to.key)
        log.info("ticket reassigned ticket=%s to=%s by=%s", ticket_id, to.key, actor.key)
        return ticket

    def answer_ticket(
        self, expert: UserRef, ticket_id: int, text: str, publish: bool = False
    ) -> Ticket:
        """Record the answer and, in the same transaction, queue it for the asker."""
        body = text.strip()
        if not body:
            raise InvalidQuestion("empty answer")
        person = require_staff(self._store, expert)
        named = with_name(expert, person)
        with self._store.transaction() as tx:
            tx.people.touch(expert)
            ticket = tx.tickets.answer(ticket_id, named, body, force=person.role is Role.ADMIN)
            delivered = Answer(
                ticket.question, Decision.ANSWER, body, ticket.passages, 1.0, from_expert=True
            )
            iid = tx.interactions.record(
                ticket.asker, delivered, kind=InteractionKind.EXPERT_ANSWER, ticket_id=ticket_id
            )
            name = named.display_name or named.key
            self._announce.expert_answer(tx, ticket, iid, name)
            self._announce.changed(tx, ticket, "answered", name)
            tx.console.audit(named, "answer", f"ticket {ticket_id}")
        log.info("ticket answered ticket=%s expert=%s", ticket_id, expert.key)
        if publish:
            self.publish(expert, ticket_id)
            return self.ticket(expert, ticket_id)
        return ticket

    def publish(self, expert: UserRef, ticket_id: int) -> FaqEntry:
        """Make the ticket's answer an expert FAQ entry of the library."""
        named = with_name(expert, require_staff(self._store, expert))
        entry = self._library.publish(named, ticket_id)
        with self._store.transaction() as tx:
            ticket = tx.tickets.get(ticket_id)
            self._announce.changed(tx, ticket, "published", named.display_name or named.key)
            tx.console.audit(named, "publish", f"ticket {ticket_id}", entry.faq_id)
        return entry

    def withdraw_faq(self, user: UserRef, faq_id: str) -> FaqRecord:
        """Take an expert FAQ entry out of the library (kept, marked withdrawn, in the store)."""
        require_staff(self._store, user)
        return self._library.withdraw(user, faq_id)

    def faq_entries(self, user: UserRef, flagged: bool | None = None) -> list[FaqRecord]:
        """Published entries (``flagged=True``: those to review after a document changed)."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.faq.find(flagged=flagged)

    def review_faq(self, user: UserRef, faq_id: str) -> FaqRecord:
        """An expert checked a flagged entry and keeps it."""
        require_staff(self._store, user)
        return self._library.clear_flag(faq_id)

    def set_domain(self, expert: UserRef, ticket_id: int, domain: Domain) -> Ticket:
        require_staff(self._store, expert)
        with self._store.transaction() as tx:
            ticket = tx.tickets.set_domain(ticket_id, expert, domain)
            self._announce.changed(tx, ticket, "domain_changed")
        return ticket

    def reannounce_due(self, now: datetime | None = None) -> int:
        """Announce again tickets nobody claimed in time; how many notifications were queued.

        The server calls this periodically; several workers may do so at once.
        """
        moment = now or self._clock.now()
        queued = 0
        with self._store.transaction() as tx:
            for ticket, level in tx.tickets.reannounce_due(moment - self._reannounce_after):
                waited = moment - ticket.created_at
                queued += self._announce.reannounce(tx, ticket, level, waited)
                log.info("ticket reannounced ticket=%s level=%s", ticket.ticket_id, level)
        return queued

    def _may_see_all(self, tx: Transaction, user: UserRef) -> bool:
        if any(d.key == user.key for d in self._announce.destinations):
            return True
        person = tx.people.get(user.key)
        return person is not None and person.is_staff
