"""WeChat's 5-second rule: answer within the budget passively, otherwise answer another way.

For every delivery of a message:

1. the first delivery on this worker asks the desk whether any worker saw the message before
   (``desk.record_inbound`` with the message key). If none did, it starts the answer job;
2. every delivery on the owning worker waits on that job for what is left of its budget
   (about 4 s of WeChat's 5). A reply ready in time is the passive reply — the part that fits
   in 2048 bytes, the rest pushed or held — and is saved (``desk.save_reply``) so a
   re-delivery on another worker returns the same;
3. a delivery that runs out of budget answers ``success`` (WeChat stops re-sending) and the
   job, when done, pushes the reply as customer-service messages. An account that cannot push
   (no credentials, or 48001) answers instead with one sentence saying the answer will be
   shown when the user replies 0, and holds the reply;
4. a re-delivery on a worker that does not own the message returns the saved reply if there
   is one, else what step 3 answers: the owner is still working on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import prompts
from bot.wechat.conversation import Conversation
from bot.wechat.jobs import AnswerJob, AnswerJobs
from bot.wechat.outbound import Pusher
from bot.wechat.protocol import Inbound, log_ref
from bot.wechat.rendering import paginate
from bot.wechat.state import WeChatState
from core.errors import StoreUnavailable

log = logging.getLogger(__name__)


class Responder:
    def __init__(
        self,
        state: WeChatState,
        conversation: Conversation,
        pusher: Pusher,
        *,
        budget_s: float = 4.0,
        keep_s: float = 120.0,
    ) -> None:
        self._state = state
        self._conversation = conversation
        self._pusher = pusher
        self.budget_s = budget_s
        self.jobs = AnswerJobs(self._unclaimed, keep_s=keep_s)

    async def respond(
        self,
        inbound: Inbound,
        room: int,
        arrived: float,
        connected: Callable[[], Awaitable[bool]],
    ) -> str | None:
        """The passive reply for this delivery (at most ``room`` bytes), or None for
        ``success``. ``arrived`` is the event-loop time the request came in."""
        loop = asyncio.get_running_loop()
        deadline = arrived + self.budget_s
        job, created = self.jobs.open(inbound.key, inbound.user)
        if created:
            try:
                await self._decide(job, inbound)
            except Exception:  # the desk's store is down: say so rather than fail the callback
                log.exception("wechat_record_failed ref=%s", inbound.ref)
                return prompts.error_text("error")
        else:
            try:
                await asyncio.wait_for(job.decided.wait(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                return self._pending()
        if job.remote:
            found, text = await self._state.saved_passive(inbound.key)
            log.info("wechat_redelivery ref=%s saved=%s", inbound.ref, found)
            return text if found else self._pending()
        passive = await self.jobs.wait(
            job, deadline - loop.time(), connected, lambda text: self._claim(job, text, room)
        )
        if passive is not None:
            with contextlib.suppress(StoreUnavailable):  # a re-delivery then says "pending"
                await self._state.save_passive(inbound.key, passive)
            log.info("wechat_reply ref=%s path=passive", inbound.ref)
            return passive
        if job.ready.is_set() and job.text is None:
            return None  # nothing to say (unsubscribe, a menu link…)
        log.info("wechat_reply ref=%s path=later", inbound.ref)
        return self._pending()

    async def aclose(self, grace_s: float = 10.0) -> None:
        await self.jobs.aclose(grace_s)

    async def _decide(self, job: AnswerJob, inbound: Inbound) -> None:
        try:
            first = await self._state.record_inbound(inbound.user, inbound.key)
        except StoreUnavailable as exc:  # cannot tell a re-delivery: answer (the desk keeps it)
            log.warning("wechat_dedup_unavailable ref=%s error=%s", inbound.ref, exc.detail)
            first = True
        except BaseException:
            self.jobs.remote(job)  # followers must not wait for a job that never starts
            raise
        if first:
            self.jobs.start(job, lambda: self._conversation.respond(inbound))
        else:
            self.jobs.remote(job)

    def _claim(self, job: AnswerJob, text: str, room: int) -> str:
        """The part of ``text`` that fits the passive reply; the rest is pushed or held."""
        key = "wechat.more_follows" if self._pusher.can_push else "wechat.more_held"
        pages = paginate(text, room, 1, prompts.text(key))
        if pages.rest:
            log.info("wechat_reply_split ref=%s", log_ref(job.key))
            self.jobs.spawn(self._pusher.push(job.user, pages.rest), f"wechat-rest:{job.key}")
        return pages.parts[0]

    def _pending(self) -> str | None:
        """What a delivery answers when the reply will come another way."""
        return None if self._pusher.can_push else prompts.text("wechat.answer_pending")

    async def _unclaimed(self, job: AnswerJob) -> None:
        if job.text:
            outcome = await self._pusher.push(job.user, job.text)
            log.info("wechat_reply ref=%s path=pushed outcome=%s", log_ref(job.key), outcome.value)
