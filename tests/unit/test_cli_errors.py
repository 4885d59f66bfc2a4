"""Every `qadesk` command reports an error one way: Chinese on stderr, exit status 1 — a
setting that does not load (naming the variable, never a secret's value), an error of the desk
or the library (its Chinese text, then the detail)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

import prompts
from app.cli import cli
from app.cli.common import reporting
from core.errors import AlreadyClaimed, DocumentNotFound


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"QADESK_PORT": "eighty"}, "QADESK_PORT"),
        (
            {"QADESK_CONSOLE_ENABLED": "true", "QADESK_CONSOLE_SECRET": "short-secret-value"},
            "QADESK_CONSOLE_SECRET",
        ),
    ],
)
def test_a_setting_that_does_not_load_stops_any_command_politely(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["tickets", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("配置有误，未能启动：") and named in result.stderr
    assert "short-secret-value" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_desk_errors_read_their_chinese_text_and_detail() -> None:
    app = typer.Typer()

    @app.command()
    def missing() -> None:
        with reporting():
            raise DocumentNotFound("no document with id 'x'")

    @app.command()
    def taken() -> None:
        with reporting(ticket_id=7):
            raise AlreadyClaimed("held", holder="王工")

    runner = CliRunner()
    result = runner.invoke(app, ["missing"])
    assert result.exit_code == 1
    assert result.stderr.strip() == prompts.text(
        "cli.error_detail",
        text=prompts.error_text("document_not_found"),
        detail="no document with id 'x'",
    )
    result = runner.invoke(app, ["taken"])
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        prompts.text("cli.already_claimed", ticket_id=7, holder="王工"),
    )


def test_a_question_is_asked_for_before_anything_is_loaded() -> None:
    result = CliRunner().invoke(cli, ["ask"])
    assert (result.exit_code, result.stderr.strip()) == (1, prompts.text("cli.need_question"))
