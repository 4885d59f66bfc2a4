"""The web console's part of the desk: sign-in (one-time login links the bots hand out,
admin passwords), the audit log, private notes, delivery state, library search for the reply
editor and FAQ editing.

Everything is kept in the escalation store, so any number of workers serve the console alike:
a login link's nonce is marked used in the database (a link works once whichever worker gets
it), failed sign-ins are counted there (rate limiting), and sessions carry only the user id.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

import prompts
from core.answers import Citation, FaqRecord
from core.audit import AskerMessage, AuditEntry, DeliveryState, TicketNote
from core.errors import InvalidQuestion, LoginRefused, NotPermitted, PersonNotFound
from core.people import Person, Role, UserRef
from core.ports import Clock
from core.tickets import NotificationKind, Ticket
from desk import texts
from desk.ports import Knowledge
from desk.roles import require_admin, require_staff, with_name
from escalation.store import EscalationStore, Transaction
from escalation.tickets import ACTIVE

log = logging.getLogger(__name__)

LOGIN_SALT = "qadesk.console.login"
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 10  # failed sign-ins per client and window before further ones are refused
MIN_PASSWORD = 10
TO_ASKER = (NotificationKind.EXPERT_ANSWER.value, NotificationKind.DESK_REPLY.value)
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class ConsoleLinks:
    """How the desk signs login links: the console secret, the console's public URL (e.g.
    ``https://desk.example.cn/console``) and how long a link is good for."""

    secret: str
    base_url: str
    valid_for: timedelta = timedelta(minutes=10)


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer on the desk's clock."""

    def __init__(self, secret: str, clock: Clock) -> None:
        super().__init__(secret, salt=LOGIN_SALT)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


def login_token(secret: str, user_key: str, clock: Clock, nonce: str | None = None) -> str:
    """A signed one-time login token for ``user_key`` dated by ``clock``."""
    value = f"{user_key}|{nonce or secrets.token_urlsafe(16)}"
    return _ClockSigner(secret, clock).sign(value).decode()


class ConsoleAccess:
    """Mixed into ``desk.service.Desk``."""

    _store: EscalationStore
    _clock: Clock
    _knowledge: Knowledge
    _console_links: ConsoleLinks | None
    _reannounce_after: timedelta

    @property
    def sla(self) -> timedelta:
        """How long a ticket may wait unclaimed (the re-announcement period)."""
        return self._reannounce_after

    # --- sign-in ----------------------------------------------------------------------------
    def console_link(self, user: UserRef) -> str:
        """A one-time login link for an expert or admin (NotPermitted for anyone else;
        LoginRefused('disabled') when the console is off)."""
        links = self._links()
        require_staff(self._store, user)
        token = login_token(links.secret, user.key, self._clock)
        log.info("console link issued user=%s", user.key)
        return f"{links.base_url.rstrip('/')}/login?token={quote(token)}"

    def console_link_minutes(self) -> int:
        return max(1, int(self._links().valid_for.total_seconds() // 60))

    def console_link_message(self, user: UserRef) -> str:
        """What a bot answers to /console (Telegram) or 控制台 (WeChat): the login link for
        staff, else why there is none."""
        try:
            url = self.console_link(user)
        except NotPermitted:
            return prompts.text("web.login.not_staff_link")
        except LoginRefused:
            return prompts.text("web.login.disabled")
        return prompts.text("web.login.link", minutes=self.console_link_minutes(), url=url)

    def sign_in_with_link(self, token: str, client: str) -> Person:
        """The staff member a login link names, the first time it is used within its validity."""
        links = self._links()
        self._not_limited(client)
        signer = _ClockSigner(links.secret, self._clock)
        try:
            value = signer.unsign(token, max_age=int(links.valid_for.total_seconds())).decode()
            key, nonce = value.rsplit("|", 1)
        except SignatureExpired:
            raise self._refused(client, "expired") from None
        except (BadSignature, ValueError, UnicodeDecodeError):
            raise self._refused(client, "invalid") from None
        with self._store.transaction() as tx:
            person = tx.people.get(key)
            if person is None or not person.is_staff:
                tx.console.login_attempt(client, False)
                raise LoginRefused("not_staff")
            if not tx.console.use_login_nonce(nonce, key):
                tx.console.login_attempt(client, False)
                raise LoginRefused("used")
            tx.console.login_attempt(client, True)
            tx.console.audit(with_name(person.user, person), "login", key, "link")
            tx.console.forget_login_nonces(self._clock.now() - 2 * links.valid_for - FAILURE_WINDOW)
        log.info("console sign-in user=%s via=link", key)
        return person

    def sign_in_with_password(self, user_key: str, password: str, client: str) -> Person:
        """An admin who set a password signs in with it."""
        self._links()
        self._not_limited(client)
        with self._store.reading() as tx:
            person = tx.people.get(user_key.strip())
            stored = tx.console.password_hash(user_key.strip()) if person else None
        ok = False
        if person is not None and stored is not None and person.role is Role.ADMIN:
            try:
                ok = _hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok or person is None:
            raise self._refused(client, "wrong_password")
        with self._store.transaction() as tx:
            tx.console.login_attempt(client, True)
            tx.console.audit(with_name(person.user, person), "login", person.user.key, "password")
        log.info("console sign-in user=%s via=password", person.user.key)
        return person

    def set_console_password(self, admin: UserRef, password: str) -> None:
        """An admin sets (or changes) their own console password."""
        person = require_admin(self._store, admin)
        if len(password) < MIN_PASSWORD:
            raise InvalidQuestion(f"password shorter than {MIN_PASSWORD}")
        hashed = _hasher.hash(password)
        with self._store.transaction() as tx:
            tx.console.set_password_hash(admin.key, hashed)
            tx.console.audit(with_name(admin, person), "password", admin.key)
        log.info("console password set user=%s", admin.key)

    def staff_member(self, user_key: str) -> Person | None:
        """The expert or admin with this key, or None (a session of someone no longer staff
        ends here)."""
        with self._store.reading() as tx:
            person = tx.people.get(user_key)
        return person if person is not None and person.is_staff else None

    # --- audit log --------------------------------------------------------------------------
    def record_audit(self, actor: UserRef, action: str, subject: str, detail: str = "") -> None:
        """Record what ``actor`` did (in its own transaction)."""
        with self._store.transaction() as tx:
            self.audit_in(tx, actor, action, subject, detail)

    def audit_in(
        self, tx: Transaction, actor: UserRef, action: str, subject: str, detail: str = ""
    ) -> None:
        """Record an action inside the caller's transaction (kept or lost with it)."""
        person = tx.people.get(actor.key)
        named = with_name(actor, person) if person is not None else actor
        tx.console.audit(named, action, subject, detail)

    def audit_log(
        self,
        admin: UserRef,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEntry]:
        require_admin(self._store, admin)
        with self._store.reading() as tx:
            return tx.console.audit_log(since, until, limit)

    # --- tickets ----------------------------------------------------------------------------
    def queue(self, user: UserRef, limit: int = 2000) -> list[Ticket]:
        """Every open or claimed ticket, oldest first (experts and admins), as a queue row
        shows it: without draft, passages or answer (``ticket`` has those)."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.console.queue(tuple(s.value for s in ACTIVE), limit)

    def asker_history(self, user: UserRef, ticket: Ticket, limit: int = 5) -> list[Ticket]:
        """The asker's other questions to experts, newest first (the follow-ups an expert
        should see beside this one)."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            found = tx.tickets.find(asker=ticket.asker, limit=500)
        others = [t for t in found if t.ticket_id != ticket.ticket_id]
        return list(reversed(others))[:limit]

    def follow_ups(self, user: UserRef, ticket: Ticket) -> list[AskerMessage]:
        """What the asker asked the desk since the ticket was opened (their follow-ups)."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.console.asker_messages(ticket.asker.key, ticket.created_at, ticket.question)

    def add_note(self, user: UserRef, ticket_id: int, text: str) -> TicketNote:
        body = text.strip()
        if not body:
            raise InvalidQuestion("empty note")
        named = with_name(user, require_staff(self._store, user))
        with self._store.transaction() as tx:
            tx.tickets.get(ticket_id)
            return tx.console.add_note(ticket_id, named, body)

    def ticket_notes(self, user: UserRef, ticket_id: int) -> list[TicketNote]:
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.console.notes(ticket_id)

    def deliveries(self, user: UserRef, ticket_id: int) -> list[DeliveryState]:
        """The messages to the asker about this ticket and whether each got there."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.console.deliveries(ticket_id, TO_ASKER)

    def answer_deliveries(self, user: UserRef, ticket_ids: list[int]) -> dict[int, str]:
        """For each ticket with an expert answer: the state of its newest one."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            return tx.console.latest_deliveries(ticket_ids, NotificationKind.EXPERT_ANSWER.value)

    def asker_reachable_until(self, user: UserRef, ticket: Ticket) -> datetime | None:
        """Until when the asker can be written to (WeChat: 48 hours after their last message);
        None when there is no such limit."""
        require_staff(self._store, user)
        if ticket.asker.channel.value != "wechat":
            return None
        with self._store.reading() as tx:
            last = tx.people.last_inbound(ticket.asker)
        return (last or ticket.created_at) + timedelta(hours=48)

    def search_library(self, user: UserRef, query: str, limit: int = 8) -> list[Citation]:
        """The clauses the library finds for ``query`` (the reply editor's search)."""
        require_staff(self._store, user)
        text = " ".join(query.split())
        if not text:
            return []
        return self._knowledge.search(text, limit)

    def preview_answer(self, user: UserRef, ticket_id: int, text: str) -> str:
        """The expert's reply exactly as the asker would receive it."""
        named = with_name(user, require_staff(self._store, user))
        with self._store.reading() as tx:
            ticket = tx.tickets.get(ticket_id)
        drafted = replace(ticket, answer=text.strip())
        return texts.expert_answer(drafted, named.display_name or named.key)

    def person(self, user: UserRef, key: str) -> Person:
        """A staff member by key (to reassign a ticket to)."""
        require_staff(self._store, user)
        with self._store.reading() as tx:
            found = tx.people.get(key)
        if found is None or not found.is_staff:
            raise PersonNotFound(f"{key} is not an expert or admin", person=key)
        return found

    def edit_faq(self, user: UserRef, faq_id: str, answer: str) -> FaqRecord:
        """An expert corrects a published FAQ answer (the entry stays; its flag is cleared)."""
        body = answer.strip()
        if not body:
            raise InvalidQuestion("empty answer")
        named = with_name(user, require_staff(self._store, user))
        with self._store.reading() as tx:
            record = tx.faq.get(faq_id)
        if record is None:
            raise NotPermitted(f"no FAQ entry {faq_id}")
        entry = replace(
            record.entry,
            answer=body,
            approved_by=named.display_name or named.key,
            approved_at=self._clock.now().isoformat(timespec="seconds"),
        )
        stored = self._knowledge.add_faq(entry)
        with self._store.transaction() as tx:
            saved = tx.faq.save(stored)
            self.audit_in(tx, named, "faq_edit", faq_id)
        return saved

    # --- internals --------------------------------------------------------------------------
    def _links(self) -> ConsoleLinks:
        if self._console_links is None:
            raise LoginRefused("disabled")
        return self._console_links

    def _not_limited(self, client: str) -> None:
        with self._store.reading() as tx:
            failures = tx.console.failed_attempts(client, self._clock.now() - FAILURE_WINDOW)
        if failures >= MAX_FAILURES:
            log.warning("console sign-in rate limited client=%s", client)
            raise LoginRefused("rate_limited")

    def _refused(self, client: str, reason: str) -> LoginRefused:
        with self._store.transaction() as tx:
            tx.console.login_attempt(client, False)
        log.info("console sign-in refused reason=%s", reason)
        return LoginRefused(reason)
