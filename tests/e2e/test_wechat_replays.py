"""Nothing forged, nothing mixed up: WeChat callbacks on the real desk (escalation on SQLite and
on PostgreSQL), two workers sharing one database.

* A plain signature covers token, timestamp and nonce, not the body: whoever saw one callback
  URL could post other text under it for the five minutes its timestamp is accepted. Every
  worker remembers the nonce of each signed request with the message it came with, so the
  signature is refused (403) for any other message — while WeChat's own re-deliveries, which
  repeat the request unchanged, are still answered (once).
* A MsgId is not unique across users: two users whose messages share one each get their own
  answer.
"""

from __future__ import annotations

import defusedxml.ElementTree as safe_xml
import httpx
import pytest

from core.people import Channel, UserRef
from escalation.channel_memory import StoreChannelMemory
from tests.fakes.wechat_desk import ANSWERABLE, Deployment, deployment
from tests.fakes.wechat_platform import new_openid, wechat_rig

pytestmark = pytest.mark.e2e

__all__ = ["deployment"]  # the fixture

FOOD = "从事食品销售需要取得许可吗？"
FORGED = "产品出厂销售前必须经过认证吗？"


def content(response: httpx.Response) -> str | None:
    """The text of a passive reply (plain mode)."""
    return safe_xml.fromstring(response.content, forbid_dtd=True).findtext("Content")


def seen(deployment: Deployment, user: UserRef) -> bool:
    """Whether the desk has any trace of ``user`` (an interaction, a ticket, a message)."""
    worker = deployment.workers[0]
    memory = StoreChannelMemory(worker.desk.store)
    return bool(worker.desk.my_tickets(user)) or memory.last_inbound(user) is not None


async def test_a_signature_used_again_for_another_message_is_refused_by_every_worker(
    deployment: Deployment,
) -> None:
    workers = [deployment.worker(), deployment.worker()]
    asker, intruder = new_openid(), new_openid()
    async with wechat_rig([w.desk for w in workers]) as rig:
        genuine = rig.platform.message_xml(
            asker, {"MsgType": "text", "Content": ANSWERABLE, "MsgId": "7001"}
        )
        params, body = rig.platform.signed(genuine, openid=asker)
        answered = await rig.platform.post_raw(body.encode(), target=0, params=params)
        forged_xml = rig.platform.message_xml(
            intruder, {"MsgType": "text", "Content": FORGED, "MsgId": "7002"}
        )
        forged = [
            await rig.platform.post_raw(forged_xml.encode(), target=n, params=params)
            for n in (1, 0)
        ]
        again = await rig.platform.post_raw(body.encode(), target=1, params=params)
    assert answered.status_code == 200 and "计量法" in (content(answered) or "")
    assert [r.status_code for r in forged] == [403, 403]
    assert again.status_code == 200 and content(again) == content(answered)  # a re-delivery
    assert deployment.knowledge.questions == [ANSWERABLE]
    assert not seen(deployment, UserRef(Channel.WECHAT, intruder))
    assert workers[1].desk.stats(UserRef(Channel.CONSOLE, "admin")).questions == 1


async def test_two_users_sending_the_same_msgid_each_get_their_own_answer(
    deployment: Deployment,
) -> None:
    workers = [deployment.worker(), deployment.worker()]
    first, second = new_openid(), new_openid()
    async with wechat_rig([w.desk for w in workers]) as rig:
        a = await rig.platform.deliver(
            first,
            {"MsgType": "text", "Content": ANSWERABLE, "MsgId": "24000000000000001"},
            key="msg:shared",
            route=lambda n: 0,
        )
        b = await rig.platform.deliver(
            second,
            {"MsgType": "text", "Content": FOOD, "MsgId": "24000000000000001"},
            key="msg:shared",
            route=lambda n: 1,
        )
    assert a.violations == [] and b.violations == []
    assert a.reply is not None and "计量法" in a.reply
    assert b.reply is not None and "食品安全法" in b.reply and "计量法" not in b.reply
    assert sorted(deployment.knowledge.questions) == sorted([ANSWERABLE, FOOD])
