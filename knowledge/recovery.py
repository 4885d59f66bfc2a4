"""Making the library whole again: interrupted writes undone (or finished) when the desk opens
the library, and the repairs of ``qadesk docs check --repair``.

See ``knowledge.consistency`` for what a consistent library is, and ``knowledge.pending`` for
how an interrupted write is told from one still going on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from knowledge.consistency import Finding, LibraryCheck, counted, duplicates
from knowledge.keyword_index import KeywordIndex
from knowledge.pending import STALE_SECONDS, PendingWrite, is_abandoned
from knowledge.vector_index import CHUNK_COUNT, ChromaIndex, VectorHit

log = logging.getLogger(__name__)


# --- on open ---------------------------------------------------------------------------------
def recover(
    index: ChromaIndex,
    keywords: KeywordIndex,
    *,
    stale_seconds: float = STALE_SECONDS,
    now: Callable[[], float] = time.time,
) -> tuple[list[Finding], bool]:
    """Undo (or finish) the writes whose writer is gone, record the passage count on cards
    written before counts were recorded, keep one committed version per file. Cheap when
    there is nothing to do: the markers and the cards are read, nothing else.

    Returns what was done and whether the keyword index must be rebuilt from the library.
    """
    done: list[Finding] = []
    live: set[str] = set()
    for write in index.pending.all():
        if not is_abandoned(write, now=now(), stale_seconds=stale_seconds):
            live.add(write.file_name)
            continue
        done.append(_settle(index, write))
    legacy = [c for c in index.cards() if CHUNK_COUNT not in c.metadata]
    done += _adopt_legacy(index, keywords, legacy)
    for finding in duplicates(index.cards()):
        if finding.file_name not in live:
            done.append(_apply(index, finding))
    rebuild = any(f.code != "no_chunk_count" for f in done)
    for finding in done:
        level = logging.INFO if finding.code == "no_chunk_count" else logging.WARNING
        log.log(
            level,
            "library recovered code=%s file=%s: %s",
            finding.code,
            finding.file_name,
            finding.detail,
        )
    return done, rebuild


def _settle(index: ChromaIndex, write: PendingWrite) -> Finding:
    """Roll back an abandoned write, or finish it when its card was written whole."""
    card = index.card(write.doc_id)
    stored = index.passage_count(write.doc_id)
    name = write.file_name
    if card is not None and card.metadata.get(CHUNK_COUNT) == stored == write.chunks:
        for other in index.cards(name):
            if other.metadata.get("doc_id") != write.doc_id:
                index.delete_document(str(other.metadata["doc_id"]))
        index.pending.end(write.doc_id)
        return Finding(
            "interrupted_write",
            f"an ingest of {name} stopped after committing it; finished it (older versions "
            "removed)",
            doc_id=write.doc_id,
            file_name=name,
        )
    index.delete_document(write.doc_id)
    index.pending.end(write.doc_id)
    return Finding(
        "interrupted_write",
        f"an ingest of {name} stopped after {stored} of {write.chunks} passages; rolled that "
        "version back (the version before it, if any, stays)",
        doc_id=write.doc_id,
        file_name=name,
    )


def _adopt_legacy(
    index: ChromaIndex, keywords: KeywordIndex, cards: list[VectorHit]
) -> list[Finding]:
    """Cards written before passage counts were recorded: keep those the keyword index (when
    it is on disk and up to date, the witness of a finished write) agrees with, with their
    count; roll back those it does not (a write the old desk never finished)."""
    if not cards:
        return []
    witness = keywords.persistent and bool(keywords.version)
    witness = witness and keywords.version == index.version()
    sizes = keywords.group_sizes() if witness else {}
    counts: dict[str, int] | None = None
    if len(cards) > 20:  # one pass over the library rather than one query per document
        counts = {}
        for hit in index.get_all(index.chunks, {"is_card": False}, texts=False):
            doc_id = str(hit.metadata.get("doc_id", ""))
            counts[doc_id] = counts.get(doc_id, 0) + 1
    done = []
    for card in cards:
        doc_id, name = str(card.metadata["doc_id"]), str(card.metadata.get("file_name", ""))
        stored = counts.get(doc_id, 0) if counts is not None else index.passage_count(doc_id)
        if witness and sizes.get(doc_id, 0) != stored + 1:
            index.delete_document(doc_id)
            done.append(
                Finding(
                    "incomplete",
                    f"{name} has {stored} passages in the vector index but "
                    f"{max(0, sizes.get(doc_id, 0) - 1)} in the keyword index (an ingest that "
                    "never finished); rolled it back",
                    doc_id=doc_id,
                    file_name=name,
                )
            )
            continue
        index.set_card_count(doc_id, stored)
        done.append(
            Finding(
                "no_chunk_count",
                f"recorded the passage count ({stored}) of {name}",
                doc_id=doc_id,
                file_name=name,
            )
        )
    return done


# --- repairs ---------------------------------------------------------------------------------
def repair(
    index: ChromaIndex,
    keywords: KeywordIndex,
    found: LibraryCheck,
    *,
    stale_seconds: float = STALE_SECONDS,
    now: Callable[[], float] = time.time,
) -> list[Finding]:
    """Fix in the vector index what ``found`` reports (the caller then rebuilds the keyword
    index from it); returns what was done, in words."""
    done: list[Finding] = []
    for write in index.pending.all():
        if is_abandoned(write, now=now(), stale_seconds=stale_seconds):
            done.append(_settle(index, write))
    legacy = [f for f in found.findings if f.code == "no_chunk_count"]
    if legacy:
        cards = [index.card(f.doc_id) for f in legacy]
        done += _adopt_legacy(index, keywords, [c for c in cards if c is not None])
    for finding in found.findings:
        if finding.code in {"incomplete", "orphan_passages", "duplicate_version"}:
            done.append(_apply(index, finding))
    return done


def _apply(index: ChromaIndex, finding: Finding) -> Finding:
    if finding.code == "incomplete":
        index.delete_document(finding.doc_id)
        detail = f"removed the incomplete version of {finding.file_name} ({finding.detail})"
    elif finding.code == "orphan_passages":
        index.delete_records(finding.ids)
        detail = (
            f"deleted {counted(len(finding.ids), 'passage')} of version {finding.doc_id} (no card)"
        )
    else:
        for doc_id in finding.ids:
            index.delete_document(doc_id)
        detail = (
            f"kept the newest version of {finding.file_name} ({finding.doc_id}), removed "
            + ", ".join(finding.ids)
        )
    return Finding(finding.code, detail, doc_id=finding.doc_id, file_name=finding.file_name)


def keyword_rebuilt(items: int) -> Finding:
    return Finding(
        "keyword_rebuilt", f"rebuilt the keyword index from the vector index ({items} items)"
    )
