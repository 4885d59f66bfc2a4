"""The expert and admin console: ``qadesk tickets …``, ``qadesk faq …``, ``qadesk experts …``,
``qadesk stats``.

Every command goes through ``desk.Desk`` as one console user (``--as``, default
``console:admin``, whom the composition root seeds as admin and expert).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer

import prompts
from app.cli.common import fail, load_settings, reporting, say
from core.answers import FaqRecord
from core.errors import ConfigurationError, FaqNotFound
from core.people import Domain, Role, UserRef, user_from_key
from core.text import clip
from core.tickets import Ticket, TicketStatus
from desk import report, texts
from desk.service import Desk

DeskFactory = Callable[[], Desk]

CONSOLE_ADMIN = "console:admin"
AsUser = Annotated[
    str, typer.Option("--as", help="Act as this user (channel:user_id).", show_default=True)
]


def parse_user(key: str) -> UserRef:
    try:
        return user_from_key(key)
    except ConfigurationError:
        fail(say("bad_user"))


def parse_domain(value: str | None) -> Domain | None:
    if value is None:
        return None
    try:
        return Domain(value.strip().lower())
    except ValueError:
        fail(say("bad_domain", domain=value))


def parse_domains(values: list[str]) -> list[Domain]:
    found: list[Domain] = []
    for value in values:
        for part in value.replace(",", "|").split("|"):
            if part.strip():
                domain = parse_domain(part)
                assert domain is not None
                found.append(domain)
    return found


def parse_status(value: str | None) -> TicketStatus | None:
    if value is None:
        return None
    try:
        return TicketStatus(value.strip().lower())
    except ValueError:
        fail(say("bad_status", status=value))


def parse_time(value: str | None) -> datetime | None:
    """``2025-03-01`` or ``2025-03-01T09:30``; without a zone it is this machine's local time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(say("bad_time", value=value))
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC)


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"


def ticket_line(ticket: Ticket, now: datetime) -> str:
    return say(
        "ticket_line",
        ticket_id=ticket.ticket_id,
        status=texts.status_label(ticket.status),
        domain=texts.domain_label(ticket.domain),
        age=texts.duration((now - ticket.created_at).total_seconds()),
        asker=ticket.asker.display_name or ticket.asker.key,
        question=clip(ticket.question.replace("\n", " "), 60),
    )


def ticket_details(ticket: Ticket) -> list[str]:
    lines = [
        say(
            "show_title",
            ticket_id=ticket.ticket_id,
            status=texts.status_label(ticket.status),
            domain=texts.domain_label(ticket.domain),
        ),
        say(
            "show_asker",
            asker=ticket.asker.display_name or ticket.asker.user_id,
            channel=ticket.asker.channel.value,
        ),
        say("show_created", at=_local(ticket.created_at)),
        say("show_question", question=ticket.question),
    ]
    if ticket.draft_answer:
        lines.append(say("show_draft", draft=ticket.draft_answer))
    if ticket.passages:
        lines.append(say("show_passages"))
        for n, citation in enumerate(ticket.passages, 1):
            lines.append(say("show_passage", n=n, label=texts.citation_label(citation)))
    if ticket.claimed_by:
        expert = ticket.claimed_by_name or ticket.claimed_by
        lines.append(say("show_claimed", expert=expert, at=_local(ticket.claimed_at)))
    if ticket.answer:
        lines.append(say("show_answer", answer=ticket.answer))
        if ticket.answered_at:
            lines.append(say("show_answered", at=_local(ticket.answered_at)))
    if ticket.published_faq_id:
        lines.append(say("show_published", faq_id=ticket.published_faq_id))
    return lines


def faq_line(record: FaqRecord) -> str:
    flag = say("faq_flag", reason=_flag_reason(record.flag_reason)) if record.flagged else ""
    return say(
        "faq_line",
        faq_id=record.entry.faq_id,
        status=prompts.text(f"escalation.faq_status.{record.status.value}"),
        flag=flag,
        question=clip(record.entry.question.replace("\n", " "), 60),
    )


def _flag_reason(reason: str) -> str:
    """A flag reason as stored (``replaced:file.pdf``) in words."""
    kind, _, file_name = reason.partition(":")
    if kind not in ("replaced", "removed"):
        kind = "other"
    return prompts.text(f"escalation.faq_flag.{kind}", file_name=file_name)


def register(cli: typer.Typer, get_desk: DeskFactory | None = None) -> None:
    """Add ``tickets``, ``experts`` and ``stats`` to ``cli``; ``get_desk`` builds the desk
    (default: from settings, through the composition root)."""

    @contextmanager
    def opened() -> Iterator[Desk]:
        if get_desk is None:
            from app import bootstrap

            with bootstrap.command_desk(load_settings()) as desk:
                yield desk
        else:
            yield get_desk()

    tickets = typer.Typer(help="Expert tickets: list, show, claim, answer.", no_args_is_help=True)
    faq = typer.Typer(
        help="Published expert FAQ entries: list, review, withdraw.", no_args_is_help=True
    )
    experts = typer.Typer(help="Experts and admins, with their domains.", no_args_is_help=True)
    cli.add_typer(tickets, name="tickets")
    cli.add_typer(faq, name="faq")
    cli.add_typer(experts, name="experts")

    @tickets.command("list")
    def tickets_list(
        status: Annotated[str | None, typer.Option(help="open, claimed, answered…")] = None,
        domain: Annotated[str | None, typer.Option(help="metrology, food…")] = None,
        as_user: AsUser = CONSOLE_ADMIN,
    ) -> None:
        """List tickets, oldest first."""
        user, wanted, area = parse_user(as_user), parse_status(status), parse_domain(domain)
        with opened() as desk, reporting():
            found = desk.tickets(user, wanted, area)
        now = datetime.now(UTC)
        for ticket in found:
            typer.echo(ticket_line(ticket, now))
        typer.echo(say("count", count=len(found)) if found else say("no_tickets"))

    @tickets.command("show")
    def tickets_show(ticket_id: int, as_user: AsUser = CONSOLE_ADMIN) -> None:
        """Show a ticket: question, draft, passages, answer and its history."""
        user = parse_user(as_user)
        with opened() as desk, reporting(ticket_id):
            ticket = desk.ticket(user, ticket_id)
            events = desk.ticket_events(user, ticket_id)
        for line in ticket_details(ticket):
            typer.echo(line)
        typer.echo(say("show_events"))
        for event in events:
            action = prompts.text(f"escalation.event.{event.action}")
            typer.echo(
                say("show_event", at=_local(event.at), action=action, actor=event.actor or "")
            )

    @tickets.command("claim")
    def tickets_claim(ticket_id: int, as_user: AsUser = CONSOLE_ADMIN) -> None:
        """Claim a ticket (one expert wins; others are told who has it)."""
        user = parse_user(as_user)
        with opened() as desk, reporting(ticket_id):
            desk.claim(user, ticket_id)
        typer.echo(say("claimed", ticket_id=ticket_id))

    @tickets.command("release")
    def tickets_release(ticket_id: int, as_user: AsUser = CONSOLE_ADMIN) -> None:
        """Give a claimed ticket back to the queue."""
        user = parse_user(as_user)
        with opened() as desk, reporting(ticket_id):
            desk.release(user, ticket_id)
        typer.echo(say("released", ticket_id=ticket_id))

    @tickets.command("answer")
    def tickets_answer(
        ticket_id: int,
        text: Annotated[str, typer.Option("--text", help="The answer for the asker.")],
        publish: Annotated[
            bool, typer.Option("--publish", help="Also add it to the library as an FAQ entry.")
        ] = False,
        as_user: AsUser = CONSOLE_ADMIN,
    ) -> None:
        """Answer a ticket; the answer reaches the asker on their channel."""
        user = parse_user(as_user)
        if not text.strip():
            fail(say("empty_answer"))
        with opened() as desk, reporting(ticket_id):
            ticket = desk.answer_ticket(user, ticket_id, text, publish=publish)
        typer.echo(say("answered", ticket_id=ticket_id))
        if ticket.published_faq_id:
            typer.echo(say("published", faq_id=ticket.published_faq_id))

    @tickets.command("publish")
    def tickets_publish(ticket_id: int, as_user: AsUser = CONSOLE_ADMIN) -> None:
        """Add an answered ticket to the library as an expert FAQ entry."""
        user = parse_user(as_user)
        with opened() as desk, reporting(ticket_id):
            entry = desk.publish(user, ticket_id)
        typer.echo(say("published", faq_id=entry.faq_id))

    @tickets.command("reassign")
    def tickets_reassign(
        ticket_id: int,
        to: Annotated[str, typer.Argument(help="The expert taking it (channel:user_id).")],
        as_user: AsUser = CONSOLE_ADMIN,
    ) -> None:
        """Hand a ticket to another expert (admins, or the expert holding it)."""
        actor, target = parse_user(as_user), parse_user(to)
        with opened() as desk, reporting(ticket_id):
            ticket = desk.reassign(actor, ticket_id, target)
        name = ticket.claimed_by_name or target.key
        typer.echo(say("reassigned", ticket_id=ticket_id, expert=name, user=target.key))

    @tickets.command("domain")
    def tickets_domain(
        ticket_id: int,
        domain: Annotated[str, typer.Argument(help="metrology, standards, food…")],
        as_user: AsUser = CONSOLE_ADMIN,
    ) -> None:
        """Move a ticket to another domain (its experts are told)."""
        user, area = parse_user(as_user), parse_domain(domain)
        assert area is not None
        with opened() as desk, reporting(ticket_id):
            ticket = desk.set_domain(user, ticket_id, area)
        typer.echo(say("domain_set", ticket_id=ticket_id, domain=texts.domain_label(ticket.domain)))

    @faq.command("list")
    def faq_list(
        flagged: Annotated[
            bool, typer.Option("--flagged", help="Only entries to review after a document changed.")
        ] = False,
        as_user: AsUser = CONSOLE_ADMIN,
    ) -> None:
        """List published expert FAQ entries, oldest first."""
        user = parse_user(as_user)
        with opened() as desk, reporting():
            found = desk.faq_entries(user, True if flagged else None)
        for record in found:
            typer.echo(faq_line(record))
        typer.echo(say("faq_count", count=len(found)) if found else say("no_faq"))

    @faq.command("review")
    def faq_review(faq_id: str, as_user: AsUser = CONSOLE_ADMIN) -> None:
        """Keep a flagged entry: an expert checked it against the changed document."""
        user = parse_user(as_user)
        with opened() as desk, reporting():
            try:
                desk.review_faq(user, faq_id)
            except FaqNotFound:
                fail(say("faq_not_found", faq_id=faq_id))
        typer.echo(say("faq_reviewed", faq_id=faq_id))

    @faq.command("withdraw")
    def faq_withdraw(faq_id: str, as_user: AsUser = CONSOLE_ADMIN) -> None:
        """Take an entry out of the library: later askers are no longer answered from it."""
        user = parse_user(as_user)
        with opened() as desk, reporting():
            try:
                desk.withdraw_faq(user, faq_id)
            except FaqNotFound:
                fail(say("faq_not_found", faq_id=faq_id))
        typer.echo(say("faq_withdrawn", faq_id=faq_id))

    @experts.command("add")
    def experts_add(
        user_key: Annotated[str, typer.Argument(help="channel:user_id, e.g. telegram:12345")],
        domains: Annotated[
            list[str] | None, typer.Argument(help="Domains (none: every domain).")
        ] = None,
        admin: Annotated[bool, typer.Option("--admin", help="Make them an admin.")] = False,
        as_user: AsUser = CONSOLE_ADMIN,
    ) -> None:
        """Make someone an expert (or admin) of some domains."""
        actor, target = parse_user(as_user), parse_user(user_key)
        areas = parse_domains(domains or [])
        with opened() as desk, reporting():
            person = desk.add_expert(actor, target, areas, Role.ADMIN if admin else Role.EXPERT)
        typer.echo(
            say(
                "expert_saved",
                user=person.user.key,
                role=prompts.text(f"escalation.role.{person.role.value}"),
                domains=_domains_label(person.domains),
            )
        )

    @experts.command("list")
    def experts_list(as_user: AsUser = CONSOLE_ADMIN) -> None:
        """List experts and admins with their domains."""
        actor = parse_user(as_user)
        with opened() as desk, reporting():
            people = desk.experts(actor)
        for person in people:
            typer.echo(
                say(
                    "expert_line",
                    user=person.user.key,
                    name=person.user.display_name or "—",
                    role=prompts.text(f"escalation.role.{person.role.value}"),
                    domains=_domains_label(person.domains),
                )
            )
        if not people:
            typer.echo(say("no_experts"))

    @experts.command("remove")
    def experts_remove(user_key: str, as_user: AsUser = CONSOLE_ADMIN) -> None:
        """Take away someone's expert or admin role."""
        actor, target = parse_user(as_user), parse_user(user_key)
        with opened() as desk, reporting():
            desk.remove_expert(actor, target)
        typer.echo(say("expert_removed", user=target.key))

    @cli.command("stats")
    def stats(
        since: Annotated[str | None, typer.Option(help="From (2025-03-01 or …T09:30).")] = None,
        until: Annotated[str | None, typer.Option(help="Up to, not including.")] = None,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV: section,key,value.")] = False,
        as_user: AsUser = CONSOLE_ADMIN,
    ) -> None:
        """Service statistics for a period (default: all time); experts and admins only."""
        start, end = parse_time(since), parse_time(until)
        with opened() as desk, reporting():
            figures = desk.stats(parse_user(as_user), start, end)
        if as_csv:
            typer.echo(report.csv_report(figures), nl=False)
        else:
            typer.echo(report.text_report(figures))


def _domains_label(domains: tuple[Domain, ...]) -> str:
    if not domains:
        return say("all_domains")
    return "、".join(texts.domain_label(d) for d in domains)
