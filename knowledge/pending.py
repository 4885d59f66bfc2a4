"""Writes in progress: one marker per document version being written to the library.

A document version becomes visible only when its card is written, after all its passages
(see ``knowledge.store``). Before the first passage reaches the vector index the writer
records a :class:`PendingWrite` (who writes it: host and process id; when it last made
progress), updates it after every batch and removes it once the version is committed and
the version it replaces is deleted. A marker whose writer is gone — its process is dead on
this host, or it has made no progress for ``stale_seconds`` — belongs to an interrupted
write, which the knowledge store rolls back (or finishes, when the card was written) on open.

Markers live in the library's state collection, so every worker sharing a Chroma server
sees them.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

KIND = "pending_write"
_PREFIX = "pending:"
_MARKER_VECTOR = [1.0, 0.0]  # the state collection holds records, not meanings

STALE_SECONDS = 600.0
"""A writer that made no progress for this long is taken for gone (one batch of passages
takes seconds, a whole document minutes)."""


@dataclass(frozen=True, slots=True)
class PendingWrite:
    doc_id: str
    file_name: str
    chunks: int  # passages the version will have
    host: str
    pid: int
    started: float  # time.time() of the first write
    heartbeat: float  # time.time() of the last progress


def this_writer() -> tuple[str, int]:
    """The host name and process id markers written by this process carry."""
    return socket.gethostname(), os.getpid()


def process_alive(pid: int) -> bool:
    """True when process ``pid`` of this host exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in {"Z", "X"}


def is_abandoned(
    write: PendingWrite,
    *,
    now: float,
    stale_seconds: float = STALE_SECONDS,
    host: str | None = None,
    alive: Callable[[int], bool] = process_alive,
) -> bool:
    """Whether the writer of ``write`` is gone: silent for ``stale_seconds``, or a process of
    this ``host`` that no longer runs. A writer on another host is trusted until it is stale."""
    if now - write.heartbeat > stale_seconds:
        return True
    here = host if host is not None else socket.gethostname()
    return write.host == here and not alive(write.pid)


class PendingWrites:
    """The markers, stored in a Chroma collection (the library's state collection)."""

    def __init__(self, collection: Any, clock: Callable[[], float] = time.time) -> None:
        self._collection = collection
        self._clock = clock

    def begin(self, doc_id: str, file_name: str, chunks: int) -> PendingWrite:
        host, pid = this_writer()
        now = self._clock()
        write = PendingWrite(doc_id, file_name, chunks, host, pid, now, now)
        self.record(write)
        return write

    def touch(self, write: PendingWrite) -> PendingWrite:
        """Record progress (after each batch of passages)."""
        fresh = replace(write, heartbeat=self._clock())
        self.record(fresh)
        return fresh

    def end(self, doc_id: str) -> None:
        self._collection.delete(ids=[_PREFIX + doc_id])

    def all(self) -> list[PendingWrite]:
        got = self._collection.get(where={"kind": KIND}, include=["documents"])
        writes = []
        for text in got.get("documents") or []:
            try:
                writes.append(PendingWrite(**json.loads(text or "{}")))
            except (TypeError, ValueError):
                continue  # not a marker this desk wrote
        return sorted(writes, key=lambda w: w.started)

    def record(self, write: PendingWrite) -> None:
        """Store ``write`` as it is (``begin`` and ``touch`` fill in who and when)."""
        self._collection.upsert(
            ids=[_PREFIX + write.doc_id],
            documents=[json.dumps(asdict(write), ensure_ascii=False)],
            metadatas=[{"kind": KIND, "doc_id": write.doc_id}],
            embeddings=[_MARKER_VECTOR],
        )
