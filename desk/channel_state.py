"""The channel-state part of the desk contract: what channels share across workers and
restarts (message deduplication, callback nonces, 48-hour windows, held messages, ticket
cards), kept in the escalation store."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.people import UserRef
from escalation.store import EscalationStore


class ChannelState:
    """Delegates the channel-state methods of ``desk.api.DeskApi`` to the store."""

    _store: EscalationStore

    def record_inbound(self, user: UserRef, message_key: str) -> bool:
        return self._store.record_inbound(user, message_key)

    def last_inbound(self, user: UserRef) -> datetime | None:
        return self._store.last_inbound(user)

    def save_reply(self, message_key: str, text: str) -> None:
        self._store.save_reply(message_key, text)

    def saved_reply(self, message_key: str) -> str | None:
        return self._store.saved_reply(message_key)

    def remember_key(self, key: str, value: str, keep_for: timedelta) -> str | None:
        return self._store.remember_key(key, value, keep_for)

    def hold(self, user: UserRef, text: str) -> None:
        self._store.hold(user, text)

    def take_held(self, user: UserRef) -> list[str]:
        return self._store.take_held(user)

    def link_ticket_message(self, ticket_id: int, channel: str, ref: str) -> None:
        self._store.link_ticket_message(ticket_id, channel, ref)

    def ticket_for_message(self, channel: str, ref: str) -> int | None:
        return self._store.ticket_for_message(channel, ref)

    def ticket_messages(self, ticket_id: int, channel: str) -> list[str]:
        return self._store.ticket_messages(ticket_id, channel)
