"""Questions kept on disk while the database cannot take them.

One file per question in the spool directory (under the data dir), holding one JSON line: who
asked, what, when, and what the desk decided. A file is written to a temporary name, flushed to
disk and then renamed into place, so a reader sees a whole question or none, after a crash
too. File names start with the time asked, so listing them gives the oldest first.

Draining (:meth:`QuestionSpool.draining`) takes an exclusive lock on the directory, so of
several processes sharing a data dir one drains at a time; a file is removed only after its
question is in the database (the database also remembers drained ids, so a crash between the
two never stores a question twice).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.answers import Answer, Decision, EscalationReason
from core.people import Channel, UserRef
from escalation.records import citations_from_json, citations_to_json

log = logging.getLogger(__name__)

SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class SpooledQuestion:
    """A question the desk answered (or meant to escalate) but could not record."""

    spool_id: str
    user: UserRef
    question: str
    asked_at: datetime
    answer: Answer
    replied: bool  # the asker already has the answer; nothing more to tell them
    typed: str | None = None  # what the asker typed, when ``question`` completed a follow-up


class QuestionSpool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(
        self,
        user: UserRef,
        question: str,
        answer: Answer,
        asked_at: datetime,
        typed: str | None = None,
    ) -> str:
        """Keep one question (durably, atomically); its spool id. Raises OSError."""
        self.directory.mkdir(parents=True, exist_ok=True)
        spool_id = f"{asked_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}"
        entry = SpooledQuestion(
            spool_id, user, question, asked_at, answer, answer.decision is Decision.ANSWER, typed
        )
        line = json.dumps(_to_json(entry), ensure_ascii=False) + "\n"
        temporary = self.directory / f".{spool_id}.tmp"
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / f"{spool_id}{SUFFIX}")
        _sync_directory(self.directory)
        return spool_id

    def count(self) -> int:
        """How many questions wait (cheap: a directory listing)."""
        return len(self._files())

    def pending(self, limit: int = 100) -> list[SpooledQuestion]:
        """The waiting questions, oldest first; an unreadable file is set aside (``.bad``)."""
        found: list[SpooledQuestion] = []
        for path in self._files()[:limit]:
            try:
                found.append(_from_json(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError, TypeError):
                log.error("spool entry unreadable file=%s", path.name)
                with contextlib.suppress(OSError):
                    path.rename(path.with_suffix(".bad"))
        return found

    def remove(self, spool_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / f"{spool_id}{SUFFIX}").unlink()

    @contextlib.contextmanager
    def draining(self) -> Iterator[bool]:
        """Hold the spool's drain lock for the block; yields False when another process holds
        it (then do nothing)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / ".lock").open("a") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p for p in self.directory.iterdir() if p.suffix == SUFFIX and not p.name.startswith(".")
        )


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _to_json(entry: SpooledQuestion) -> dict[str, Any]:
    a, u = entry.answer, entry.user
    return {
        "id": entry.spool_id,
        "user": {
            "channel": u.channel.value,
            "user_id": u.user_id,
            "chat_id": u.chat_id,
            "name": u.display_name,
        },
        "question": entry.question,
        "asked_at": entry.asked_at.isoformat(),
        "replied": entry.replied,
        "typed": entry.typed,
        "answer": {
            "question": a.question,
            "decision": a.decision.value,
            "text": a.text,
            "citations": citations_to_json(a.citations),
            "confidence": a.confidence,
            "reason": a.reason.value,
            "from_expert": a.from_expert,
            "faq_id": a.faq_id,
        },
    }


def _from_json(data: dict[str, Any]) -> SpooledQuestion:
    u, a = data["user"], data["answer"]
    user = UserRef(Channel(u["channel"]), str(u["user_id"]), u.get("chat_id"), u.get("name"))
    answer = Answer(
        question=a["question"],
        decision=Decision(a["decision"]),
        text=a["text"],
        citations=citations_from_json(a.get("citations")),
        confidence=float(a.get("confidence", 0.0)),
        reason=EscalationReason(a.get("reason", "")),
        from_expert=bool(a.get("from_expert", False)),
        faq_id=a.get("faq_id"),
    )
    asked_at = datetime.fromisoformat(data["asked_at"])
    typed = data.get("typed")  # absent in entries kept before it was
    return SpooledQuestion(
        str(data["id"]),
        user,
        data["question"],
        asked_at,
        answer,
        bool(data["replied"]),
        str(typed) if typed is not None else None,
    )
