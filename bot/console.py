"""`qadesk chat`: a console conversation with the desk, as the console user."""

from __future__ import annotations

from collections.abc import Callable

import prompts
from core.errors import QadeskError
from core.people import Channel, UserRef
from desk import texts
from desk.api import DeskApi

CONSOLE_USER = UserRef(Channel.CONSOLE, "local", display_name="console")


def run_console(
    desk: DeskApi,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    user: UserRef = CONSOLE_USER,
) -> None:
    """Read questions until EOF or /quit; 1 / 2 right after an answer are feedback."""
    write(prompts.text("console.welcome"))
    last: int | None = None
    while True:
        try:
            line = read(prompts.text("console.prompt")).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line in {"/quit", "/exit"}:
            break
        if not line:
            continue
        try:
            if line == "/my":
                tickets = desk.my_tickets(user)
                write(
                    "\n".join(
                        prompts.text(
                            "console.ticket_line",
                            ticket_id=t.ticket_id,
                            status=texts.status_label(t.status),
                            question=t.question,
                        )
                        for t in tickets
                    )
                    or prompts.text("console.no_tickets")
                )
            elif line in {"1", "2"} and last is not None:
                if line == "1":
                    result = desk.feedback(user, last, helpful=True)
                else:
                    result = desk.not_solved(user, last)
                write(result.text)
                last = None
            else:
                reply = desk.ask(user, line)
                write(reply.text)
                if reply.offer_feedback:
                    write(prompts.text("console.feedback_hint"))
                last = None if reply.choices else reply.interaction_id  # 1/2/3 pick a choice
        except QadeskError as exc:
            write(prompts.error_text(exc.code))
    write(prompts.text("console.bye"))
