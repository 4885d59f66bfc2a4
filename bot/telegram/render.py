"""Text for Telegram: HTML escaping, splitting under the message limit, and the pieces of text
the bot shows (answers, ticket lists, statistics, library listings).

Everything here is pure. Telegram's HTML parse mode accepts only its own tag set, so every
string a user or a document supplied is escaped, and every catalog text too (``html_text``).
Telegram counts the 4096-character limit after entity parsing in UTF-16 code units; text is
split on the raw string with a safety margin and escaped afterwards, so an entity such as
``&amp;`` is never cut in half.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import prompts
from core.documents import SourceDocument
from core.people import Channel, Domain
from core.text import clip
from core.tickets import Ticket, TicketStatus
from desk import report, texts
from desk.api import IngestOutcome, Stats

MESSAGE_LIMIT = 4096
# Room for the markup added around a chunk (titles, bold labels) once it is escaped.
CHUNK_LIMIT = 3500
_BREAKS = ("\n\n", "\n", "。", "；", "！", "？", ". ", "，", " ")


def escape(value: object) -> str:
    """Escape any string for Telegram HTML (``<``, ``>``, ``&`` and quotes)."""
    return html.escape(str(value), quote=True)


def html_text(key: str, **values: object) -> str:
    """A catalog text made safe for HTML: the template and every value are escaped."""
    template = prompts.raw(key)
    if not isinstance(template, str):
        raise prompts.MissingText(f"{key} is not a text")
    safe = {name: escape(value) for name, value in values.items()}
    return escape(template).format(**safe) if safe else escape(template)


def bold(value: str) -> str:
    """Wrap already-escaped HTML in <b>."""
    return f"<b>{value}</b>"


def utf16_len(value: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(value.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = CHUNK_LIMIT) -> list[str]:
    """Cut plain ``text`` into pieces of at most ``limit`` UTF-16 units once escaped.

    Prefers paragraph, line and sentence boundaries; falls back to a hard cut. Empty text
    gives one empty piece so callers always have something to attach buttons to.
    """
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(escape(rest)) <= limit:
            pieces.append(rest)
            break
        cut = _fit(rest, limit)
        window = rest[:cut]
        best = -1
        for mark in _BREAKS:
            at = window.rfind(mark)
            if at > cut // 3:
                best = at + len(mark)
                break
        end = best if best > 0 else cut
        pieces.append(rest[:end].rstrip())
        rest = rest[end:].lstrip()
    return pieces or [""]


def _fit(text: str, limit: int) -> int:
    """The longest prefix length of ``text`` whose escaped form fits ``limit`` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += utf16_len(escape(char))
        if used > limit:
            return max(index, 1)
    return len(text)


def split_html_blocks(blocks: Iterable[str], limit: int = MESSAGE_LIMIT - 96) -> list[str]:
    """Join already-escaped HTML blocks (each balanced) into messages under ``limit``.

    A block is never split, so each must fit on its own; callers build blocks with
    :func:`split_text` pieces.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if current and utf16_len(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current or not messages:
        messages.append(current)
    return messages


def plain_messages(text: str, title: str | None = None) -> list[str]:
    """Plain ``text`` as escaped HTML messages, the optional plain ``title`` in bold first."""
    pieces = [escape(piece) for piece in split_text(text)]
    if title:
        heading = bold(escape(title))
        pieces[0] = f"{heading}\n\n{pieces[0]}" if pieces[0] else heading
    return pieces


def one_line(text: str, limit: int) -> str:
    return clip(" ".join(text.split()), limit)


def domain_label(domain: Domain | str) -> str:
    return texts.domain_label(Domain(domain))


def channel_label(channel: Channel | str) -> str:
    return texts.channel_label(Channel(channel))


def status_label(status: TicketStatus | str) -> str:
    return texts.status_label(TicketStatus(status))


def age_label(created: datetime, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    minutes = max(0, int((now - created).total_seconds() // 60))
    if minutes < 60:
        return prompts.text("telegram.age.minutes", n=minutes)
    if minutes < 60 * 24:
        return prompts.text("telegram.age.hours", n=minutes // 60)
    return prompts.text("telegram.age.days", n=minutes // (60 * 24))


def ticket_list(tickets: Sequence[Ticket], shown: int = 10) -> list[str]:
    """/my: the asker's tickets, newest first, as HTML messages."""
    recent = sorted(tickets, key=lambda t: t.created_at, reverse=True)[:shown]
    blocks = [bold(html_text("telegram.my.title"))]
    for ticket in recent:
        line = html_text(
            "telegram.my.line",
            ticket_id=ticket.ticket_id,
            status=status_label(ticket.status),
            question=one_line(ticket.question, 80),
        )
        if ticket.answer:
            line += "\n" + html_text(
                "telegram.my.answered_line", answer=one_line(ticket.answer, 120)
            )
        blocks.append(line)
    if len(tickets) > shown:
        blocks.append(html_text("telegram.my.more", shown=shown, total=len(tickets)))
    return split_html_blocks(blocks)


def queue_list(tickets: Sequence[Ticket], now: datetime | None = None) -> list[str]:
    """/queue: open tickets in the order the desk gave them (oldest first)."""
    blocks = [bold(html_text("telegram.expert.queue_title"))]
    for ticket in tickets:
        blocks.append(
            html_text(
                "telegram.expert.queue_line",
                ticket_id=ticket.ticket_id,
                domain=domain_label(ticket.domain),
                age=age_label(ticket.created_at, now),
                question=one_line(ticket.question, 80),
            )
        )
    return split_html_blocks(blocks)


def stats_text(stats: Stats) -> list[str]:
    """The desk's statistics report (``desk.report``, as ``qadesk stats`` prints it), its
    first line as the bold title."""
    title, _, body = report.text_report(stats).partition("\n")
    return plain_messages(body, title)


def document_list(documents: Sequence[SourceDocument]) -> list[str]:
    blocks = [bold(html_text("telegram.admin.docs_title", count=len(documents)))]
    for doc in documents:
        blocks.append(
            html_text(
                "telegram.admin.docs_line",
                doc_id=doc.doc_id,
                title=one_line(doc.title, 60),
                doc_number=doc.doc_number or "—",
            )
        )
    return split_html_blocks(blocks)


def ingest_result(outcome: IngestOutcome) -> str:
    """What the desk learned from one file, or exactly why it was refused."""
    if outcome.error_code or outcome.error or outcome.document is None:
        reason = prompts.error_text(outcome.error_code or "ingest", outcome.error_reason)
        lines = [html_text("telegram.admin.refused", file_name=outcome.file_name, reason=reason)]
        if outcome.error:
            lines.append(
                html_text("telegram.admin.refused_detail", detail=clip(outcome.error, 300))
            )
        return "\n".join(lines)
    doc = outcome.document
    if outcome.unchanged:
        return html_text("telegram.admin.unchanged")
    lines = [bold(html_text("telegram.admin.learned", title=doc.title))]
    if doc.doc_number:
        lines.append(html_text("telegram.admin.doc_number", doc_number=doc.doc_number))
    else:
        lines.append(html_text("telegram.admin.no_doc_number"))
    lines.append(
        html_text("telegram.admin.sections", sections=outcome.sections, chunks=outcome.chunks)
    )
    if outcome.replaced is not None:
        lines.append(html_text("telegram.admin.replaced", title=outcome.replaced.title))
    return "\n".join(lines)
