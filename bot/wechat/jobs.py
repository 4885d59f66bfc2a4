"""The answer jobs of one worker: one background job per message key, however many deliveries.

WeChat drops a callback after 5 seconds and sends the same message again, three times in all.
The answer must not be computed per delivery, and the request must never sleep: the first
delivery starts an :class:`AnswerJob` (an asyncio task) and every delivery of the same message
on this worker waits on it for what is left of its own budget.

Exactly one way of handing over the reply wins, decided on the event loop (no locks needed):

* a delivery still connected when the reply is ready *claims* it and answers passively;
* when the reply is ready and no connected delivery is waiting, the job is *handed over*
  (:attr:`AnswerJob.settled` with ``passive`` None) and its ``on_unclaimed`` callback sends it
  another way (customer-service messages, or held for the user's next message).

Jobs are forgotten ``keep_s`` after they finish; a later re-delivery then finds the saved reply
in the desk's channel state instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.wechat.protocol import log_ref
from core.people import UserRef

log = logging.getLogger(__name__)


@dataclass(eq=False)
class AnswerJob:
    key: str
    user: UserRef
    decided: asyncio.Event = field(default_factory=asyncio.Event)  # owner known (here or not)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # ``text`` is final
    remote: bool = False  # another worker saw the message first
    text: str | None = None  # the reply; None: nothing to say (answer `success`)
    waiters: int = 0  # deliveries waiting right now
    settled: bool = False  # the reply went out (passively or handed over)
    passive: str | None = None  # the passive reply a delivery took, for re-deliveries
    task: asyncio.Task[None] | None = None


class AnswerJobs:
    """The registry of running and recently finished jobs, by message key."""

    def __init__(
        self,
        on_unclaimed: Callable[[AnswerJob], Coroutine[Any, Any, None]],
        *,
        keep_s: float = 120.0,
    ) -> None:
        self._jobs: dict[str, AnswerJob] = {}
        self._on_unclaimed = on_unclaimed
        self._keep_s = keep_s
        self._background: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._jobs)

    def open(self, key: str, user: UserRef) -> tuple[AnswerJob, bool]:
        """The job for ``key`` and whether this call created it (then the caller must
        :meth:`start` it or mark it :meth:`remote`)."""
        job = self._jobs.get(key)
        if job is not None:
            return job, False
        job = AnswerJob(key, user)
        self._jobs[key] = job
        return job, True

    def start(self, job: AnswerJob, compute: Callable[[], Awaitable[str | None]]) -> None:
        job.decided.set()
        job.task = asyncio.create_task(self._run(job, compute), name=f"wechat-answer:{job.key}")

    def remote(self, job: AnswerJob) -> None:
        """Another worker owns the message (or this one could not start it)."""
        job.remote = True
        job.decided.set()
        self._jobs.pop(job.key, None)

    async def wait(
        self,
        job: AnswerJob,
        timeout: float,
        connected: Callable[[], Awaitable[bool]],
        claim: Callable[[str], str],
    ) -> str | None:
        """Wait up to ``timeout`` seconds; the passive reply this delivery may send, or None
        (answer ``success`` or say the answer is pending: the job is handled another way).

        ``claim`` turns the reply into the passive reply (e.g. the part that fits, sending the
        rest another way); it runs once, for the delivery that wins."""
        job.waiters += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job.ready.wait(), max(timeout, 0.0))
            if not job.ready.is_set():
                return None
            if job.passive is not None:  # taken by an earlier delivery whose answer was lost
                return job.passive
            if job.settled or job.text is None or not await connected():
                return None
            if job.settled:  # settled while we checked the connection
                return job.passive
            job.settled = True
            job.passive = claim(job.text)
            return job.passive
        finally:
            job.waiters -= 1
            if job.ready.is_set() and not job.settled and job.waiters == 0:
                self._hand_over(job)

    async def aclose(self, grace_s: float = 10.0) -> None:
        """Let running jobs and hand-overs finish for up to ``grace_s``, then cancel them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while tasks := self._running():
            _, pending = await asyncio.wait(tasks, timeout=max(deadline - loop.time(), 0))
            if pending and loop.time() >= deadline:
                for task in pending:
                    log.warning("wechat_job_cancelled task=%s", task.get_name())
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                break
        self._jobs.clear()

    def _running(self) -> set[asyncio.Task[None]]:
        tasks = {j.task for j in self._jobs.values() if j.task and not j.task.done()}
        return tasks | {t for t in self._background if not t.done()}

    async def _run(self, job: AnswerJob, compute: Callable[[], Awaitable[str | None]]) -> None:
        try:
            job.text = await compute()
        except Exception:
            log.exception("wechat_job_failed ref=%s", log_ref(job.key))
        finally:
            job.ready.set()
            if job.text is None:
                job.settled = True
            elif job.waiters == 0 and not job.settled:
                self._hand_over(job)
            asyncio.get_running_loop().call_later(self._keep_s, self._forget, job)

    def spawn(self, work: Coroutine[Any, Any, object], name: str) -> None:
        """Run ``work`` in the background (failures are logged); :meth:`aclose` waits for it."""
        task = asyncio.create_task(_logged(work, name), name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _hand_over(self, job: AnswerJob) -> None:
        job.settled = True
        self.spawn(self._on_unclaimed(job), f"wechat-handover:{job.key}")

    def _forget(self, job: AnswerJob) -> None:
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]


async def _logged(work: Coroutine[Any, Any, object], name: str) -> None:
    try:
        await work
    except Exception:
        log.exception("wechat_background_failed task=%s", name)
