"""Is the library whole? The full check of both indexes against the document cards
(``qadesk docs check``); ``knowledge.recovery`` makes the repairs.

A library is consistent when:

- every card records its passage count (``chunk_count``) and exactly those passages of its
  version (ordinals ``0..n-1``) are in the vector index;
- every passage belongs to a committed version (one with a card) or to a write in progress;
- one version is committed per file name;
- no write was left half done (a marker whose writer is gone, see ``knowledge.pending``);
- the keyword index was built for the library's version and holds every record of the
  committed versions and every FAQ question, and nothing else.

Each break is a :class:`Finding` with an English text for admins and what ``--repair`` does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from knowledge.keyword_index import KeywordIndex
from knowledge.pending import STALE_SECONDS, PendingWrite, is_abandoned
from knowledge.vector_index import CHUNK_COUNT, ChromaIndex, VectorHit

log = logging.getLogger(__name__)

FAQ_GROUP = "faq"  # the keyword group of expert FAQ questions (as in knowledge.retrieval)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with the library (``problem``), or worth knowing (a write going on)."""

    code: str
    detail: str
    fix: str = ""
    doc_id: str = ""
    file_name: str = ""
    problem: bool = True
    ids: tuple[str, ...] = ()  # records a repair deletes (orphaned passages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "problem": self.problem,
            "doc_id": self.doc_id or None,
            "file": self.file_name or None,
            "detail": self.detail,
            "fix": self.fix or None,
        }


@dataclass(slots=True)
class LibraryCheck:
    """What a check found; after a repair, ``repaired`` says what was done."""

    documents: int = 0
    passages: int = 0
    keyword_items: int | None = None  # None: every worker rebuilds it (Chroma server)
    findings: list[Finding] = field(default_factory=list)
    repaired: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def reingest(self) -> list[str]:
        """Files whose broken version a repair removed: to be ingested again."""
        return sorted({f.file_name for f in self.repaired if f.code == "incomplete"})

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "documents": self.documents,
            "passages": self.passages,
            "keyword_items": self.keyword_items,
            "problems": [f.as_dict() for f in self.problems],
            "notes": [f.as_dict() for f in self.findings if not f.problem],
            "repaired": [f.as_dict() for f in self.repaired],
            "reingest": self.reingest(),
        }


def duplicates(cards: list[VectorHit]) -> list[Finding]:
    by_file: dict[str, list[Mapping[str, Any]]] = {}
    for card in cards:
        by_file.setdefault(str(card.metadata.get("file_name", "")), []).append(card.metadata)
    found = []
    for name, metas in sorted(by_file.items()):
        if len(metas) < 2:
            continue
        metas = sorted(metas, key=lambda m: str(m.get("ingested_at", "")), reverse=True)
        newest = str(metas[0]["doc_id"])
        older = tuple(str(m["doc_id"]) for m in metas[1:])
        found.append(
            Finding(
                "duplicate_version",
                f"{len(metas)} versions of {name} are committed",
                f"keep the newest ({newest}), remove {', '.join(older)}",
                doc_id=newest,
                file_name=name,
                ids=older,
            )
        )
    return found


# --- the full check --------------------------------------------------------------------------
def check(
    index: ChromaIndex,
    keywords: KeywordIndex,
    *,
    stale_seconds: float = STALE_SECONDS,
    now: Callable[[], float] = time.time,
) -> LibraryCheck:
    """Verify both indexes against the cards; nothing is changed."""
    records = index.get_all(index.chunks, texts=False)
    cards = [r for r in records if r.metadata.get("is_card")]
    committed = {str(c.metadata.get("doc_id", "")) for c in cards}
    passages: dict[str, list[VectorHit]] = {}
    for record in records:
        if not record.metadata.get("is_card"):
            passages.setdefault(str(record.metadata.get("doc_id", "")), []).append(record)
    result = LibraryCheck(len(cards), len(records) - len(cards))
    writing: set[str] = set()
    for write in index.pending.all():
        finding = _pending_finding(write, now(), stale_seconds, passages, committed)
        result.findings.append(finding)
        writing.add(write.doc_id)
    for card in cards:
        result.findings += _card_findings(card, passages.get(str(card.metadata["doc_id"]), []))
    for doc_id, found in sorted(passages.items()):
        if doc_id not in committed and doc_id not in writing:
            result.findings.append(
                Finding(
                    "orphan_passages",
                    f"{counted(len(found), 'passage')} of version {doc_id} without a document "
                    "card (left by an interrupted ingest or a removal)",
                    "delete them",
                    doc_id=doc_id,
                    file_name=str(found[0].metadata.get("file_name", "")),
                    ids=tuple(r.item_id for r in found),
                )
            )
    result.findings += duplicates(cards)
    if keywords.persistent:
        entries = keywords.entries()
        result.keyword_items = len(entries)
        result.findings += _keyword_findings(index, keywords, entries, records, committed)
    return result


def _pending_finding(
    write: PendingWrite,
    now: float,
    stale_seconds: float,
    passages: Mapping[str, list[Any]],
    committed: set[str],
) -> Finding:
    stored = len(passages.get(write.doc_id, []))
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(write.started))
    if not is_abandoned(write, now=now, stale_seconds=stale_seconds):
        return Finding(
            "writing",
            f"{write.file_name} is being written by process {write.pid} on {write.host} "
            f"since {started} ({stored} of {write.chunks} passages so far)",
            doc_id=write.doc_id,
            file_name=write.file_name,
            problem=False,
        )
    return Finding(
        "interrupted_write",
        f"an ingest of {write.file_name} (process {write.pid} on {write.host}, started "
        f"{started}) stopped after {stored} of {write.chunks} passages",
        "finish it (its card was written): remove the older versions of the file"
        if write.doc_id in committed and stored == write.chunks
        else "roll that version back (the version before it, if any, stays)",
        doc_id=write.doc_id,
        file_name=write.file_name,
    )


def _card_findings(card: VectorHit, passages: list[VectorHit]) -> list[Finding]:
    doc_id, name = str(card.metadata["doc_id"]), str(card.metadata.get("file_name", ""))
    count = card.metadata.get(CHUNK_COUNT)
    if count is None:
        return [
            Finding(
                "no_chunk_count",
                f"{name} was written before passage counts were recorded ({len(passages)} "
                "passages); the count is recorded when the desk next opens the library",
                doc_id=doc_id,
                file_name=name,
                problem=False,
            )
        ]
    ordinals = sorted(int(p.metadata.get("ordinal", -1)) for p in passages)
    if ordinals == list(range(int(count))):
        return []
    held = f"{len(passages)} of its {count} passages are in the vector index"
    if len(passages) == int(count):
        held = f"its {count} passages in the vector index are not those of its card"
    return [
        Finding(
            "incomplete",
            held,
            f"remove this version; then ingest {name} again",
            doc_id=doc_id,
            file_name=name,
        )
    ]


def _keyword_findings(
    index: ChromaIndex,
    keywords: KeywordIndex,
    entries: Mapping[str, str],
    records: list[VectorHit],
    committed: set[str],
) -> list[Finding]:
    rebuild = "rebuild the keyword index from the vector index"
    found: list[Finding] = []
    if keywords.version != index.version():
        found.append(
            Finding(
                "keyword_stale",
                "the keyword index was built for another version of the library",
                rebuild,
            )
        )
    expected: dict[str, str] = {}
    names: dict[str, str] = {}
    for record in records:
        doc_id = str(record.metadata.get("doc_id", ""))
        names.setdefault(doc_id, str(record.metadata.get("file_name", "")))
        if doc_id in committed:
            expected[record.item_id] = doc_id
    for hit in index.get_all(index.faq, texts=False):
        expected[hit.item_id] = FAQ_GROUP
    missing: dict[str, int] = {}
    extra: dict[str, int] = {}
    for item_id, group in expected.items():
        if entries.get(item_id) != group:
            missing[group] = missing.get(group, 0) + 1
    for item_id, group in entries.items():
        if expected.get(item_id) != group:
            extra[group] = extra.get(group, 0) + 1
    for group, n in sorted(missing.items()):
        what = (
            counted(n, "FAQ question")
            if group == FAQ_GROUP
            else f"{counted(n, 'record')} of {names.get(group, group)}"
        )
        found.append(
            Finding(
                "keyword_missing",
                f"{what} missing from the keyword index",
                rebuild,
                doc_id="" if group == FAQ_GROUP else group,
                file_name=names.get(group, ""),
            )
        )
    for group, n in sorted(extra.items()):
        found.append(
            Finding(
                "keyword_orphan",
                f"{counted(n, 'keyword item')} of {names.get(group, group)} with no committed "
                "record in the vector index",
                rebuild,
                doc_id="" if group == FAQ_GROUP else group,
                file_name=names.get(group, ""),
            )
        )
    return found


def counted(n: int, noun: str) -> str:
    """``1 passage``, ``3 passages``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
