"""What every `qadesk` command shares: its settings, and one way to report an error — in
Chinese (``prompts/cli.toml``), on stderr, with exit status 1 (2 for a wrong use of options)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

import prompts
from app import bootstrap
from app.settings import Settings
from core.errors import AlreadyClaimed, QadeskError


def say(key: str, **values: object) -> str:
    return prompts.text(f"cli.{key}", **values)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """The settings, with logging configured; a setting that does not load stops the command
    with every problem named (the variables, never their values)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        fail(say("bad_settings", problems="；".join(settings_problems(exc))))
    bootstrap.configure_logging(settings.log_level)
    return settings


def settings_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        field = str(error["loc"][0]) if error["loc"] else ""
        variable = f"QADESK_{field.upper()}"
        problems.append(message if not field or variable in message else f"{variable}: {message}")
    return problems


def error_message(exc: QadeskError, ticket_id: int | None = None) -> str:
    if isinstance(exc, AlreadyClaimed):
        return say("already_claimed", ticket_id=ticket_id, holder=exc.holder or "?")
    text = prompts.error_text(exc.code)
    return (
        say("error_detail", text=text, detail=exc.detail) if exc.detail else say("error", text=text)
    )


@contextmanager
def reporting(ticket_id: int | None = None) -> Iterator[None]:
    """The desk's and the library's errors as Chinese on stderr, exit status 1."""
    try:
        yield
    except QadeskError as exc:
        fail(error_message(exc, ticket_id))


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
