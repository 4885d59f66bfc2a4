"""The notifier that needs no outside service."""

from __future__ import annotations

import logging

import pytest

from core.people import Channel, UserRef
from core.tickets import Notification, NotificationKind
from escalation.notifiers import LogNotifier

NOTE = Notification(
    7, NotificationKind.EXPERT_ANSWER, UserRef(Channel.CONSOLE, "local"), "专家答复：需要检定。", 3
)


async def test_the_log_notifier_records_who_and_what_but_not_the_body_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="escalation.notifiers"):
        await LogNotifier().send(NOTE)
    (record,) = caplog.records
    assert record.getMessage() == (
        "notification id=7 kind=expert_answer recipient=console:local ticket=3"
    )
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="escalation.notifiers"):
        await LogNotifier().send(NOTE)
    assert any("需要检定" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
