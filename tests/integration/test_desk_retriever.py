"""The library as a LangChain retriever: real embedder, Chroma and keyword index over a slice
of the shipped library, used inside a small LangChain chain (a runnable pipe)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from ingest.pipeline import IngestPipeline
from knowledge.answering import open_knowledge_base
from knowledge.retriever import DeskRetriever

pytestmark = pytest.mark.integration

LIBRARY = Path(__file__).resolve().parents[2] / "library"
SLICE = [LIBRARY / "laws" / "L03_计量法_2018.md", LIBRARY / "seeds" / "001_56e88020fa1795a7.txt"]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, e5_embedder) -> DeskRetriever:
    kb = open_knowledge_base(e5_embedder, tmp_path_factory.mktemp("kb"))
    assert not IngestPipeline(kb).ingest_paths(SLICE).errors
    return DeskRetriever(knowledge=kb, k=3)


def test_passages_come_with_the_desks_citation_fields(retriever: DeskRetriever) -> None:
    documents = retriever.invoke("个体户可以自己修秤吗")
    assert 1 <= len(documents) <= 3
    first = documents[0]
    assert isinstance(first, Document)
    assert "个体工商户可以制造、修理简易的计量器具" in first.page_content
    assert first.metadata["source"] == "L03_计量法_2018.md"
    assert first.metadata["title"].startswith("中华人民共和国计量法")
    assert str(first.metadata["article"]).startswith("第")
    assert set(first.metadata) >= {"doc_number", "section", "kind", "chunk_id", "score"}
    scores = [d.metadata["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)


def test_the_retriever_runs_inside_a_chain(retriever: DeskRetriever) -> None:
    def numbered(documents: list[Document]) -> str:
        return "\n".join(
            f"[{i}] 《{d.metadata['title']}》{d.metadata['article'] or ''} {d.page_content}"
            for i, d in enumerate(documents, start=1)
        )

    prompt = ChatPromptTemplate.from_messages([("human", "资料：\n{context}\n\n问题：{question}")])
    chain = (
        {"context": retriever | RunnableLambda(numbered), "question": RunnablePassthrough()}
        | prompt
        | RunnableLambda(lambda value: value.to_messages()[-1].content)
    )
    text = chain.invoke("个体户可以自己修秤吗")
    assert text.startswith("资料：\n[1] 《中华人民共和国计量法")
    assert "个体工商户可以制造、修理简易的计量器具" in text
    assert text.endswith("问题：个体户可以自己修秤吗")


def test_a_question_outside_the_library_still_gets_ranked_passages(
    retriever: DeskRetriever,
) -> None:
    documents = retriever.invoke("今天天气怎么样")
    assert all(isinstance(d.metadata["score"], float) for d in documents)
