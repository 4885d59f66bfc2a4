"""``qadesk serve`` with the WeChat settings: the one ASGI app (app.server.create_app, built by
the composition root) serves /wechat next to /healthz, and its outbox dispatcher reaches WeChat
askers and the experts' WeCom robot through this channel."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import prompts
from app import bootstrap
from app.server import create_app
from app.settings import Settings
from core.people import Channel, UserRef
from tests.fakes.knowledge import FakeKnowledge
from tests.fakes.wechat_api import WeChatApiStandIn, serve
from tests.fakes.wechat_platform import TOKEN, WeChatPlatform, new_openid

pytestmark = pytest.mark.e2e

EXPERT = UserRef(Channel.TELEGRAM, "2001", display_name="李工")
ANSWERABLE = "用于贸易结算的电子秤需要强制检定吗？"
ESCALATED = "锅炉要年检吗？"


async def test_serve_answers_escalates_announces_and_delivers_the_expert_answer(
    tmp_path: Path,
) -> None:
    api = WeChatApiStandIn()
    async with serve(api.app()) as api_url:
        settings = Settings(
            _env_file=None,
            data_dir=tmp_path,
            experts=["telegram:2001=other"],
            wechat_token=TOKEN,
            wechat_app_id=api.app_id,
            wechat_app_secret=api.secret,
            wechat_api_url=api_url,
            wecom_robot_url=f"{api_url}/cgi-bin/webhook/send?key={api.robot_key}",
        )
        container = bootstrap.build(settings, knowledge=FakeKnowledge())  # type: ignore[arg-type]
        async with serve(create_app(settings, container)) as base:
            platform = WeChatPlatform([f"{base}/wechat"], token=TOKEN, api=api)
            openid = new_openid()
            asker = UserRef(Channel.WECHAT, openid)
            try:
                async with httpx.AsyncClient(trust_env=False) as http:
                    health = (await http.get(f"{base}/healthz")).json()
                verified = await platform.verify_url(echostr="qadesk")
                answered = await platform.send_text(openid, ANSWERABLE)
                escalated = await platform.send_text(openid, ESCALATED)
                (ticket,) = container.desk.my_tickets(asker)
                await api.wait_until(lambda: len(api.robot_messages) == 1)
                container.desk.claim(EXPERT, ticket.ticket_id)
                container.desk.answer_ticket(EXPERT, ticket.ticket_id, "锅炉应定期检验。")
                (pushed,) = await api.wait_sent(openid, 1)
            finally:
                await platform.aclose()
    assert "wechat" in health["channels"]
    assert verified.text == "qadesk"
    assert answered.reply is not None and "计量法" in answered.reply
    assert answered.reply.endswith(prompts.text("wechat.feedback_hint"))
    assert escalated.reply is not None and f"#{ticket.ticket_id}" in escalated.reply
    assert f"#{ticket.ticket_id}" in api.robot_messages[0]
    assert "锅炉应定期检验。" in pushed
    assert all(not e.violations for e in platform.exchanges)
