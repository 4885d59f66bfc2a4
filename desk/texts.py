"""The desk's Chinese texts, filled in from ``prompts/desk.toml`` (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import prompts
from core.answers import Answer, Citation
from core.people import Channel, Domain
from core.text import clip
from core.tickets import Ticket, TicketStatus

SOURCES_SHOWN = 3
DRAFT_CHARS = 600


def domain_label(domain: Domain) -> str:
    return prompts.text(f"desk.domain.{domain.value}")


def channel_label(channel: Channel) -> str:
    return prompts.text(f"desk.channel.{channel.value}")


def status_label(status: TicketStatus) -> str:
    return prompts.text(f"desk.status.{status.value}")


def duration(seconds: float | None) -> str:
    """A short Chinese duration: under 2 minutes in seconds, under 2 hours in minutes, under
    2 days in hours, else days (rounded)."""
    if seconds is None:
        return prompts.text("desk.duration.none")
    if seconds < 120:
        return prompts.text("desk.duration.seconds", n=round(seconds))
    if seconds < 7200:
        return prompts.text("desk.duration.minutes", n=round(seconds / 60))
    if seconds < 172800:
        return prompts.text("desk.duration.hours", n=round(seconds / 3600))
    return prompts.text("desk.duration.days", n=round(seconds / 86400))


def citation_label(citation: Citation) -> str:
    """《title》第X条（文号）（现行有效）."""
    label = f"《{citation.title or citation.document}》"
    if citation.article:
        label += citation.article
    elif citation.section:
        label += " " + citation.section.split(" > ")[-1]
    if citation.doc_number:
        label += f"（{citation.doc_number}）"
    if citation.status_label:
        label += prompts.text("status.label", status=citation.status_label)
    return label


def source_lines(citations: Sequence[Citation], limit: int = SOURCES_SHOWN) -> list[str]:
    """One line per distinct cited document (best first), at most ``limit``."""
    seen: set[str] = set()
    lines: list[str] = []
    for citation in citations:
        key = citation.document or citation.title
        if key in seen:
            continue
        seen.add(key)
        lines.append(prompts.text("desk.ask.source_line", label=citation_label(citation)))
        if len(lines) == limit:
            break
    return lines


def escalated_reply(ticket: Ticket, answer: Answer, repeated: bool) -> str:
    """What the asker reads when the question goes to an expert (or already had): why the
    desk does not answer itself (the reason knowledge gave), the ticket and what happens next,
    then the sources that may help meanwhile."""
    if repeated:
        return prompts.text(
            "desk.ask.escalated_again",
            ticket_id=ticket.ticket_id,
            status=status_label(ticket.status),
        )
    reason = answer.text.strip() or prompts.text("desk.ask.escalated_asked")
    notice = prompts.text(
        "desk.ask.escalated", ticket_id=ticket.ticket_id, domain=domain_label(ticket.domain)
    )
    parts = [f"{reason}\n{notice}"]
    lines = source_lines(answer.citations)
    if lines:
        parts.append("\n".join([prompts.text("desk.ask.escalated_sources"), *lines]))
    return "\n\n".join(parts)


def too_long(length: int, limit: int) -> str:
    return prompts.text("desk.ask.too_long", length=length, limit=limit)


def _ticket_values(ticket: Ticket) -> dict[str, object]:
    return {
        "ticket_id": ticket.ticket_id,
        "domain": domain_label(ticket.domain),
        "question": ticket.question,
        "asker": ticket.asker.display_name or ticket.asker.channel.value,
    }


def new_ticket(ticket: Ticket) -> str:
    """The announcement of a new ticket to experts: question, draft, retrieved passages."""
    parts = [prompts.text("desk.notify.new_ticket", **_ticket_values(ticket))]
    if ticket.draft_answer.strip():
        parts.append(
            prompts.text("desk.notify.draft", draft=clip(ticket.draft_answer, DRAFT_CHARS))
        )
    lines = [
        prompts.text("desk.notify.passage_line", label=citation_label(c))
        for c in ticket.passages[:SOURCES_SHOWN]
    ]
    if lines:
        parts.append("\n".join([prompts.text("desk.notify.passages_title"), *lines]))
    return "\n\n".join(parts)


def reopened(ticket: Ticket) -> str:
    return prompts.text(
        "desk.notify.reopened",
        answer=clip(ticket.answer or "", DRAFT_CHARS),
        **_ticket_values(ticket),
    )


def reannounce(ticket: Ticket, level: int, waited: timedelta) -> str:
    key = "desk.notify.reannounce_domain" if level <= 1 else "desk.notify.reannounce_all"
    return prompts.text(key, waited=duration(waited.total_seconds()), **_ticket_values(ticket))


def released(ticket: Ticket) -> str:
    return prompts.text("desk.notify.released", **_ticket_values(ticket))


def assigned(ticket: Ticket) -> str:
    return prompts.text("desk.notify.assigned", **_ticket_values(ticket))


def card_update(ticket: Ticket, key: str, expert: str = "") -> str:
    """A one-line state change for the experts' channels (``key``: claimed, answered…)."""
    return prompts.text(
        f"desk.notify.{key}",
        ticket_id=ticket.ticket_id,
        expert=expert,
        domain=domain_label(ticket.domain),
    )


def expert_answer(ticket: Ticket, expert_name: str) -> str:
    """The expert's answer as the asker receives it, signed with the expert's name (only the
    domain when the desk knows no name)."""
    domain = domain_label(ticket.domain)
    if expert_name and expert_name != prompts.text("desk.notify.unnamed_expert"):
        signature = prompts.text("desk.notify.expert_signature", domain=domain, name=expert_name)
    else:
        signature = prompts.text("desk.notify.expert_signature_unnamed", domain=domain)
    return prompts.text(
        "desk.notify.expert_answer",
        ticket_id=ticket.ticket_id,
        expert=signature,
        answer=ticket.answer or "",
        question=clip(ticket.question, 200),
    )
