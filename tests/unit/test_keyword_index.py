"""The keyword index: BM25 search by group, document frequencies, and what survives a restart
(the matrix is reopened without reading the items; a stale or broken matrix is rebuilt)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from knowledge.keyword_index import KeywordIndex

ITEMS = [
    ("law:1", "law", ["计量", "器具", "检定"]),
    ("law:2", "law", ["个体", "工商户", "修理", "计量", "器具"]),
    ("notice:1", "notice", ["质量", "基础设施", "一站式"]),
    ("faq:1", "faq", ["电子秤", "检定", "多久"]),
]


def _index(directory: Path | None = None) -> KeywordIndex:
    index = KeywordIndex(directory)
    index.reset(ITEMS)
    return index


def test_search_ranks_by_bm25_and_filters_groups():
    index = _index()
    assert index.search(["修理", "计量"], 5)[0][0] == "law:2"
    assert {i for i, _ in index.search(["检定"], 5)} == {"law:1", "faq:1"}
    assert [i for i, _ in index.search(["检定"], 5, exclude="faq")] == ["law:1"]
    assert [i for i, _ in index.search(["检定"], 5, group="faq")] == ["faq:1"]
    assert index.search(["没有的词"], 5) == []


def test_document_frequency_and_idf():
    index = _index()
    assert (index.df("计量"), index.df("一站式"), index.df("没有的词")) == (2, 1, 0)
    assert index.idf("一站式") > index.idf("计量") > 0
    assert index.tempered_idf("没有的词") == 1.5


def test_a_restart_reads_the_matrix_not_the_items(tmp_path):
    saved = _index(tmp_path)
    saved.save("v1")
    reopened = KeywordIndex(tmp_path)
    assert reopened.version == "v1" and len(reopened) == len(ITEMS)
    assert reopened._items is None  # nothing read but the matrix
    assert reopened.search(["修理", "计量"], 5) == saved.search(["修理", "计量"], 5)
    assert reopened.df("计量") == 2
    reopened.replace_group("notice", [("notice:2", ["首席质量官"])])  # reads the items now
    reopened.save("v2")
    again = KeywordIndex(tmp_path)
    assert [i for i, _ in again.search(["首席质量官"], 5)] == ["notice:2"]
    assert again.search(["一站式"], 5) == [] and len(again) == len(ITEMS)


@pytest.mark.parametrize("damage", ["stale", "broken"])
def test_a_stale_or_broken_matrix_is_rebuilt_from_the_items(tmp_path, damage):
    _index(tmp_path).save("v1")
    meta = tmp_path / "bm25" / "meta.json"
    if damage == "stale":
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "version": "v0"}))
    else:
        for name in ("data.csc.index.npy", "vocab.index.json"):
            (tmp_path / "bm25" / name).write_bytes(b"not a matrix")
    reopened = KeywordIndex(tmp_path)
    assert [i for i, _ in reopened.search(["修理"], 5)] == ["law:2"]
    assert reopened.df("检定") == 2


def test_an_emptied_index_saves_and_reopens_empty(tmp_path):
    index = _index(tmp_path)
    index.save("v1")
    index.reset([])
    index.save("v2")
    reopened = KeywordIndex(tmp_path)
    assert len(reopened) == 0 and reopened.search(["计量"], 5) == []
    assert not (tmp_path / "bm25").exists()


def test_items_saved_without_a_matrix_get_one_at_the_first_search(tmp_path):
    _index(tmp_path).save("v1")
    shutil.rmtree(tmp_path / "bm25")  # as an older version of the desk left it
    first = KeywordIndex(tmp_path)
    assert [i for i, _ in first.search(["修理"], 5)] == ["law:2"]
    assert (tmp_path / "bm25" / "meta.json").exists()
    second = KeywordIndex(tmp_path)
    assert second._items is None and [i for i, _ in second.search(["修理"], 5)] == ["law:2"]


def test_an_index_made_by_another_tokenizer_is_not_used(tmp_path):
    index = KeywordIndex(tmp_path, tokenizer_id="dictionary-1")
    index.reset(ITEMS)
    index.save("v1")
    assert KeywordIndex(tmp_path, tokenizer_id="dictionary-1").version == "v1"
    other = KeywordIndex(tmp_path, tokenizer_id="dictionary-2")
    assert other.version == "" and other.search(["修理"], 5) == []
