"""A deterministic knowledge base and ingest pipeline for desk tests.

``FakeKnowledge`` answers from a small dict of documents by character-bigram overlap with the
question and escalates otherwise; it keeps expert FAQ entries and serves them to questions
whose bigrams are close enough (so a reworded question finds the entry), labelled as an
expert's answer. ``FakeIngest`` turns a text file into a document of that knowledge base.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import prompts
from core.answers import Answer, Citation, Decision, EscalationReason, FaqEntry
from core.documents import Chunk, DocumentKind, SourceDocument
from core.errors import EmptyDocument, UnsupportedFormat

_NOISE = re.compile(r"[\W_]+", re.UNICODE)
_FILLER = set("的了吗呢吧啊呀么是我们你要需什怎哪")  # characters that say little


def _grams(text: str) -> Counter[str]:
    norm = _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()
    norm = "".join(ch for ch in norm if ch not in _FILLER)
    return Counter(norm[i : i + 2] for i in range(len(norm) - 1))


def coverage(question: str, text: str) -> float:
    """Share of the question's bigrams found in ``text``."""
    q, t = _grams(question), _grams(text)
    total = sum(q.values())
    return sum((q & t).values()) / total if total else 0.0


def dice(a: str, b: str) -> float:
    ga, gb = _grams(a), _grams(b)
    total = sum(ga.values()) + sum(gb.values())
    return 2 * sum((ga & gb).values()) / total if total else 0.0


LAWS: dict[str, tuple[str, str]] = {
    "L03_计量法_2018.md": (
        "中华人民共和国计量法",
        "第九条 县级以上人民政府计量行政部门对社会公用计量标准器具，部门和企业、事业单位使用的"
        "最高计量标准器具，以及用于贸易结算、安全防护、医疗卫生、环境监测方面的列入强制检定目录"
        "的工作计量器具，实行强制检定。未按照规定申请检定或者检定不合格的，不得使用。",
    ),
    "L04_认证认可条例_2023.md": (
        "中华人民共和国认证认可条例",
        "第二十八条 为了保护国家安全、防止欺诈行为、保护人体健康或者安全、保护动植物生命或者"
        "健康、保护环境，国家规定相关产品必须经过认证的，应当经过认证并标注认证标志后，方可出厂、"
        "销售、进口或者在其他经营活动中使用。",
    ),
    "L10_食品安全法_2021.md": (
        "中华人民共和国食品安全法",
        "第三十五条 国家对食品生产经营实行许可制度。从事食品生产、食品销售、餐饮服务，应当依法"
        "取得许可。但是，销售食用农产品和仅销售预包装食品的，不需要取得许可。",
    ),
}


@dataclass
class FakeKnowledge:
    """A tiny library. ``answer_at``: coverage needed to answer; ``faq_at``: Dice needed to
    serve (or update) an FAQ entry."""

    laws: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(LAWS))
    answer_at: float = 0.5
    faq_at: float = 0.45
    faqs: dict[str, FaqEntry] = field(default_factory=dict)
    docs: dict[str, SourceDocument] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name, (title, text) in self.laws.items():
            self._store(name, title, text)

    # --- answering ------------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        self.questions.append(question)
        if len(_grams(question)) < 2:  # "你好", "?": not a question
            return Answer(question, Decision.ESCALATE, "", reason=EscalationReason.INVALID)
        best_faq = self._best_faq(question)
        if best_faq is not None:
            entry, score = best_faq
            cite = Citation(
                document=f"faq:{entry.faq_id}",
                title="专家解答",
                chunk_id=f"faq:{entry.faq_id}",
                text=entry.answer,
                score=score,
                kind=DocumentKind.FAQ.value,
                faq_id=entry.faq_id,
            )
            text = f"{prompts.text('answer.expert_lead')}\n{entry.answer}"
            return Answer(
                question,
                Decision.ANSWER,
                text,
                (cite,),
                score,
                from_expert=True,
                faq_id=entry.faq_id,
            )
        ranked = sorted(
            ((coverage(question, self.texts[d.doc_id]), d) for d in self.docs.values()),
            key=lambda pair: -pair[0],
        )
        cites = tuple(self._cite(doc, score) for score, doc in ranked[:2] if score > 0)
        best = ranked[0][0] if ranked else 0.0
        if best >= self.answer_at:
            doc = ranked[0][1]
            text = f"根据《{doc.title}》：{self.texts[doc.doc_id]}"
            return Answer(question, Decision.ANSWER, text, cites[:1], best)
        reason = EscalationReason.LOW_CONFIDENCE if best >= 0.2 else EscalationReason.NO_MATCH
        why = prompts.text(f"answer.escalate_{reason.value}")  # the reason, as knowledge says it
        return Answer(question, Decision.ESCALATE, why, cites, best, reason)

    def search(self, query: str, limit: int = 8) -> list[Citation]:
        ranked = sorted(
            ((coverage(query, self.texts[d.doc_id]), d) for d in self.docs.values()),
            key=lambda pair: -pair[0],
        )
        return [self._cite(doc, score) for score, doc in ranked[:limit] if score > 0]

    def _cite(self, doc: SourceDocument, score: float) -> Citation:
        text = self.texts[doc.doc_id]
        return Citation(
            document=doc.file_name,
            title=doc.title,
            chunk_id=f"{doc.doc_id}:0",
            text=text,
            score=score,
            article=text.split(" ")[0],
            kind=doc.kind.value,
        )

    # --- FAQ entries ----------------------------------------------------------------------
    def _best_faq(self, question: str) -> tuple[FaqEntry, float] | None:
        scored = [(dice(question, e.question), e) for e in self.faqs.values()]
        scored = [pair for pair in scored if pair[0] >= self.faq_at]
        if not scored:
            return None
        score, entry = max(scored, key=lambda pair: pair[0])
        return entry, score

    def similar_faq(self, question: str) -> FaqEntry | None:
        found = self._best_faq(question)
        return found[0] if found else None

    def add_faq(self, entry: FaqEntry) -> FaqEntry:
        similar = self.similar_faq(entry.question)
        if similar is not None and similar.faq_id != entry.faq_id:
            entry = replace(entry, faq_id=similar.faq_id)
        self.faqs[entry.faq_id] = entry
        return entry

    def remove_faq(self, faq_id: str) -> bool:
        return self.faqs.pop(faq_id, None) is not None

    # --- documents ------------------------------------------------------------------------
    def _store(self, file_name: str, title: str, text: str) -> SourceDocument:
        digest = hashlib.sha256(text.encode()).hexdigest()
        doc = SourceDocument(
            doc_id=digest[:16],
            file_name=file_name,
            title=title,
            kind=DocumentKind.LAW,
            content_hash=digest,
            char_count=len(text),
        )
        self.put(doc, [Chunk(f"{doc.doc_id}:0", doc.doc_id, 0, text)])
        return doc

    def put(self, document: SourceDocument, chunks: Sequence[Chunk]) -> None:
        for old in [d for d in self.docs.values() if d.file_name == document.file_name]:
            self.remove(old.doc_id)
        self.docs[document.doc_id] = document
        self.texts[document.doc_id] = "\n".join(c.text for c in chunks)

    def get(self, doc_id: str) -> SourceDocument | None:
        return self.docs.get(doc_id)

    def find_by_file(self, file_name: str) -> SourceDocument | None:
        return next((d for d in self.docs.values() if d.file_name == file_name), None)

    def remove(self, doc_id: str) -> SourceDocument | None:
        self.texts.pop(doc_id, None)
        return self.docs.pop(doc_id, None)

    def documents(self) -> list[SourceDocument]:
        return sorted(self.docs.values(), key=lambda d: d.file_name)

    def set_document(self, doc_id: str, changes: dict[str, object]) -> SourceDocument:
        self.docs[doc_id] = replace(self.docs[doc_id], **changes)  # type: ignore[arg-type]
        return self.docs[doc_id]

    def chunks(self, doc_id: str) -> list[Chunk]:
        text = self.texts.get(doc_id)
        return [Chunk(f"{doc_id}:0", doc_id, 0, text)] if text is not None else []


@dataclass(frozen=True)
class FakeIngestResult:
    status: str  # added | replaced | unchanged
    document: SourceDocument
    chunk_count: int
    replaced: SourceDocument | None = None


class FakeIngest:
    """Adds ``.txt``/``.md`` files to a FakeKnowledge: title = first line, one chunk."""

    def __init__(self, knowledge: FakeKnowledge) -> None:
        self.knowledge = knowledge

    def ingest_file(self, path: Path, file_name: str | None = None) -> FakeIngestResult:
        name = file_name or path.name
        if Path(name).suffix not in (".txt", ".md"):
            raise UnsupportedFormat(name, "not a text file")
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise EmptyDocument(name, "no text")
        title, _, body = text.partition("\n")
        digest = hashlib.sha256(text.encode()).hexdigest()
        old = self.knowledge.find_by_file(name)
        if old is not None and old.content_hash == digest:
            return FakeIngestResult("unchanged", old, len(self.knowledge.chunks(old.doc_id)))
        doc = SourceDocument(
            doc_id=digest[:16],
            file_name=name,
            title=title.strip("# "),
            kind=DocumentKind.NOTICE,
            content_hash=digest,
            char_count=len(text),
        )
        chunks = (Chunk(f"{doc.doc_id}:0", doc.doc_id, 0, body.strip() or title),)
        self.knowledge.put(doc, chunks)
        return FakeIngestResult("replaced" if old else "added", doc, len(chunks), old)
