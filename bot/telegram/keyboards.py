"""Inline keyboards and their callback data.

Callback data is a short ``kind:id:action`` string (Telegram allows 64 bytes), so a button
keeps working after a restart: everything it needs is in the data or in the desk.

==========  =======================================  =====================================
prefix      button                                   data
==========  =======================================  =====================================
``ex``      an example question under /start         ``ex:<index>``
``fb``      有用 / 没解决 / 转人工专家 on an answer   ``fb:<interaction id>:y|n|x``
``ea``      the same three on an expert's answer     ``ea:<ticket id>:y|n|x[:<interaction>]``
``tk``      认领 / 查看原文 / 发布到知识库 on a card   ``tk:<ticket id>:c|v|p``
``cx``      撤回 one of my tickets                    ``cx:<ticket id>``
==========  =======================================  =====================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import prompts
from core.tickets import Ticket, TicketStatus

CALLBACK_DATA_LIMIT = 64  # bytes


class Kind(StrEnum):
    EXAMPLE = "ex"
    FEEDBACK = "fb"
    EXPERT_ANSWER = "ea"
    TICKET = "tk"
    CANCEL = "cx"
    CHOICE = "ch"  # a clarifying question's choice (its number)


class Action(StrEnum):
    HELPFUL = "y"
    NOT_SOLVED = "n"
    TO_EXPERT = "x"
    CLAIM = "c"
    VIEW = "v"
    PUBLISH = "p"
    NONE = ""


@dataclass(frozen=True, slots=True)
class Press:
    """A decoded button press."""

    kind: Kind
    ident: int
    action: Action = Action.NONE
    extra: int | None = None


def encode(kind: Kind, ident: int, action: Action = Action.NONE, extra: int | None = None) -> str:
    parts = [kind.value, str(ident)]
    if action is not Action.NONE or extra is not None:
        parts.append(action.value)
    if extra is not None:
        parts.append(str(extra))
    data = ":".join(parts)
    if len(data.encode()) > CALLBACK_DATA_LIMIT:  # cannot happen with integer ids; be sure
        raise ValueError(f"callback data too long: {len(data.encode())} bytes")
    return data


def decode(data: str | None) -> Press | None:
    """The press for ``data``, or None when it is not one of ours (old or forged buttons)."""
    if not data:
        return None
    parts = data.split(":")
    try:
        kind = Kind(parts[0])
        ident = int(parts[1])
        action = Action(parts[2]) if len(parts) > 2 else Action.NONE
        extra = int(parts[3]) if len(parts) > 3 else None
    except (ValueError, IndexError):
        return None
    if len(parts) > 4:
        return None
    return Press(kind, ident, action, extra)


def _button(label_key: str, data: str, **values: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(prompts.text(label_key, **values), callback_data=data)


def examples(questions: Sequence[str]) -> InlineKeyboardMarkup:
    """One button per example question; the label is the question itself."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(q, callback_data=encode(Kind.EXAMPLE, i))]
            for i, q in enumerate(questions)
        ]
    )


def choices(labels: Sequence[str]) -> InlineKeyboardMarkup:
    """A clarifying question's choices, one per row; a press sends the choice's number."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=encode(Kind.CHOICE, i))]
            for i, label in enumerate(labels, start=1)
        ]
    )


def answer_feedback(interaction_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    "telegram.button.helpful", encode(Kind.FEEDBACK, interaction_id, Action.HELPFUL)
                ),
                _button(
                    "telegram.button.not_solved",
                    encode(Kind.FEEDBACK, interaction_id, Action.NOT_SOLVED),
                ),
            ],
            [
                _button(
                    "telegram.button.to_expert",
                    encode(Kind.FEEDBACK, interaction_id, Action.TO_EXPERT),
                )
            ],
        ]
    )


def expert_answer_feedback(ticket_id: int, interaction_id: int | None) -> InlineKeyboardMarkup:
    def data(action: Action) -> str:
        return encode(Kind.EXPERT_ANSWER, ticket_id, action, interaction_id)

    return InlineKeyboardMarkup(
        [
            [
                _button("telegram.button.helpful", data(Action.HELPFUL)),
                _button("telegram.button.not_solved", data(Action.NOT_SOLVED)),
            ],
            [_button("telegram.button.to_expert", data(Action.TO_EXPERT))],
        ]
    )


def card(ticket: Ticket) -> InlineKeyboardMarkup:
    """Buttons under a ticket card, by the ticket's state."""
    return card_for(ticket.ticket_id, ticket.status, published=bool(ticket.published_faq_id))


def card_for(
    ticket_id: int, status: TicketStatus, *, published: bool = False
) -> InlineKeyboardMarkup:
    view = _button("telegram.button.view", encode(Kind.TICKET, ticket_id, Action.VIEW))
    if status is TicketStatus.OPEN:
        claim = _button("telegram.button.claim", encode(Kind.TICKET, ticket_id, Action.CLAIM))
        return InlineKeyboardMarkup([[claim, view]])
    if status is TicketStatus.ANSWERED and not published:
        publish = _button("telegram.button.publish", encode(Kind.TICKET, ticket_id, Action.PUBLISH))
        return InlineKeyboardMarkup([[publish, view]])
    return InlineKeyboardMarkup([[view]])


def publish_only(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button("telegram.button.publish", encode(Kind.TICKET, ticket_id, Action.PUBLISH))]]
    )


def claim_buttons(tickets: Sequence[Ticket], limit: int = 10) -> InlineKeyboardMarkup | None:
    rows = [
        [
            _button(
                "telegram.button.claim_from_queue",
                encode(Kind.TICKET, t.ticket_id, Action.CLAIM),
                ticket_id=t.ticket_id,
            )
        ]
        for t in tickets[:limit]
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def cancel_buttons(tickets: Sequence[Ticket]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    "telegram.button.cancel_ticket",
                    encode(Kind.CANCEL, t.ticket_id),
                    ticket_id=t.ticket_id,
                )
            ]
            for t in tickets[:10]
        ]
    )
