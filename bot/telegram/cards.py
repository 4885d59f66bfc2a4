"""The ticket card experts see in their group, and the full original behind 查看原文.

A card must fit one message, so the question, the desk's draft and the passages are clipped
here; 查看原文 sends everything, split over as many messages as needed.
"""

from __future__ import annotations

from bot.telegram.render import (
    bold,
    channel_label,
    domain_label,
    escape,
    html_text,
    one_line,
    plain_messages,
    split_html_blocks,
    split_text,
)
from core.text import clip
from core.tickets import Ticket, TicketStatus
from desk.texts import citation_label

QUESTION_CHARS = 800
DRAFT_CHARS = 1200
PASSAGE_CHARS = 280
PASSAGES_SHOWN = 3


def _state(ticket: Ticket) -> str:
    name = ticket.claimed_by_name or ticket.claimed_by or ""
    answerer = ticket.answered_by or name
    match ticket.status:
        case TicketStatus.OPEN:
            return html_text("telegram.card.state_open")
        case TicketStatus.CLAIMED:
            return html_text("telegram.card.state_claimed", name=name)
        case TicketStatus.ANSWERED if ticket.published_faq_id:
            return html_text("telegram.card.state_published", name=name or answerer)
        case TicketStatus.ANSWERED:
            return html_text("telegram.card.state_answered", name=name or answerer)
        case TicketStatus.CANCELLED:
            return html_text("telegram.card.state_cancelled")
        case _:
            return html_text("telegram.card.state_closed")


def _field(label_key: str, value: str) -> str:
    return f"{bold(html_text(label_key))}：{value}"


def card_text(ticket: Ticket, *, again: bool = False) -> str:
    """The card as one HTML message (always under Telegram's limit)."""
    title_key = "telegram.card.title_again" if again else "telegram.card.title"
    question = clip(ticket.question, QUESTION_CHARS)
    draft = clip(ticket.draft_answer, DRAFT_CHARS) if ticket.draft_answer else ""
    lines = [
        f"🆕 {bold(html_text(title_key, ticket_id=ticket.ticket_id))}",
        _field("telegram.card.domain", escape(domain_label(ticket.domain))),
        _field("telegram.card.channel", escape(channel_label(ticket.asker.channel))),
        _field("telegram.card.asked_at", escape(ticket.created_at.strftime("%Y-%m-%d %H:%M"))),
        "",
        bold(html_text("telegram.card.question")) + "：",
        f"<blockquote>{escape(question)}</blockquote>",
        bold(html_text("telegram.card.draft")) + "：",
        escape(draft) if draft else html_text("telegram.card.no_draft"),
        "",
        bold(html_text("telegram.card.passages")) + "：",
    ]
    if ticket.passages:
        for number, citation in enumerate(ticket.passages[:PASSAGES_SHOWN], start=1):
            quote = one_line(citation.quote or citation.text, PASSAGE_CHARS)
            lines.append(f"{number}. {bold(escape(citation_label(citation)))}\n{escape(quote)}")
    else:
        lines.append(html_text("telegram.card.no_passages"))
    if len(ticket.question) > QUESTION_CHARS or len(ticket.draft_answer) > DRAFT_CHARS:
        lines.append(html_text("telegram.card.truncated"))
    lines += [
        "",
        _field("telegram.card.state", _state(ticket)),
    ]
    if ticket.status in (TicketStatus.OPEN, TicketStatus.CLAIMED):
        lines.append(f"<i>{html_text('telegram.card.reply_hint', ticket_id=ticket.ticket_id)}</i>")
    return "\n".join(lines)


def original_messages(ticket: Ticket) -> list[str]:
    """查看原文: the whole question, draft, every passage in full, and the answer if any."""
    blocks: list[str] = []
    title = html_text("telegram.card.original_title", ticket_id=ticket.ticket_id)
    for index, piece in enumerate(plain_messages(ticket.question)):
        heading = bold(title) + "\n" + bold(html_text("telegram.card.question")) + "："
        blocks.append(f"{heading}\n{piece}" if index == 0 else piece)
    if ticket.draft_answer:
        for index, piece in enumerate(plain_messages(ticket.draft_answer)):
            heading = bold(html_text("telegram.card.draft")) + "："
            blocks.append(f"{heading}\n{piece}" if index == 0 else piece)
    for number, citation in enumerate(ticket.passages, start=1):
        for index, piece in enumerate(split_text(citation.text or citation.quote)):
            heading = f"{number}. {bold(escape(citation_label(citation)))}"
            blocks.append(f"{heading}\n{escape(piece)}" if index == 0 else escape(piece))
    if ticket.answer:
        for index, piece in enumerate(plain_messages(ticket.answer)):
            heading = bold(html_text("telegram.card.original_answer")) + "："
            blocks.append(f"{heading}\n{piece}" if index == 0 else piece)
    return split_html_blocks(blocks)
