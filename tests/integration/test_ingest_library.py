"""Every document shipped in library/: exact metadata, clean text, chunks that follow the
structure of the text."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from opencc import OpenCC

from core.documents import ParsedDocument
from ingest.chunking import MAX_CHARS
from ingest.parsing import parse_file

pytestmark = pytest.mark.integration

LIBRARY = Path(__file__).resolve().parents[2] / "library"

# file, title, 文号, issuer, date issued, date effective, kind
EXPECTED = [
    ("E01_检验检测机构资质认定管理办法_2021.md", "检验检测机构资质认定管理办法（2015年质检总局令第163号公布，2021年修改）", "国家质量监督检验检疫总局令第163号", "国家质量监督检验检疫总局", "2021-04-02", "2015-08-01", "rule"),
    ("E02_检验检测机构监督管理办法_2025.md", "检验检测机构监督管理办法（2021年市场监管总局令第39号公布，2025年第101号令修订）", "国家市场监督管理总局令第39号", "国家市场监督管理总局", "2025-03-18", "2021-06-01", "rule"),
    ("L01_产品质量法_2018.md", "中华人民共和国产品质量法（2018年修正）", None, "全国人民代表大会常务委员会", "2018-12-29", "1993-09-01", "law"),
    ("L02_标准化法_2017.md", "中华人民共和国标准化法（2017年修订）", None, "全国人民代表大会常务委员会", "2017-11-04", "2018-01-01", "law"),
    ("L03_计量法_2018.md", "中华人民共和国计量法（2018年修正）", None, "全国人民代表大会常务委员会", "2018-10-26", "1986-07-01", "law"),
    ("L04_认证认可条例_2023.md", "中华人民共和国认证认可条例（2023年修订）", "中华人民共和国国务院令第390号", "国务院", "2023-07-20", "2003-11-01", "regulation"),
    ("L05_消费者权益保护法_2013.md", "中华人民共和国消费者权益保护法（2013年修正）", None, "全国人民代表大会常务委员会", "2013-10-25", "1994-01-01", "law"),
    ("L06_缺陷汽车产品召回管理条例_2019.md", "缺陷汽车产品召回管理条例（2019年修订）", "中华人民共和国国务院令第626号", "国务院", "2019-03-02", "2013-01-01", "regulation"),
    ("L07_工业产品生产许可证管理条例_2023.md", "中华人民共和国工业产品生产许可证管理条例（2023年修订）", "中华人民共和国国务院令第440号", "国务院", "2023-07-20", "2005-09-01", "regulation"),
    ("L08_计量法实施细则_2022.md", "中华人民共和国计量法实施细则（2022年修订）", None, "国家计量局", "2022-03-29", "1987-02-01", "regulation"),
    ("L09_标准化法实施条例_1990.md", "中华人民共和国标准化法实施条例（1990年）", "中华人民共和国国务院令第53号", "国务院", "1990-04-06", "1990-04-06", "regulation"),
    ("L10_食品安全法_2021.md", "中华人民共和国食品安全法（2021年修正）", None, "全国人民代表大会常务委员会", "2021-04-29", "2015-10-01", "law"),
    ("L11_侵害消费者权益行为处罚办法_2015.md", "侵害消费者权益行为处罚办法（2015年）", "国家工商行政管理总局令第73号", "国家工商行政管理总局", "2015-01-05", "2015-03-15", "rule"),
    ("L12_市场监督管理投诉举报处理暂行办法_2022.md", "市场监督管理投诉举报处理暂行办法（2022年修正）", "国家市场监督管理总局令第20号", "国家市场监督管理总局", "2022-03-24", "2020-01-01", "rule"),
    ("L13_强制检定的工作计量器具检定管理办法_1987.md", "中华人民共和国强制检定的工作计量器具检定管理办法（1987年）", None, "国务院", "1987-04-14", "1987-07-01", "regulation"),
    ("L14_进出口商品检验法_2021.md", "中华人民共和国进出口商品检验法（2021年修正）", None, "全国人民代表大会常务委员会", "2021-04-29", "1989-08-01", "law"),
    ("L15_电子商务法_2018.md", "中华人民共和国电子商务法（2018年）", None, "全国人民代表大会常务委员会", "2018-08-31", "2019-01-01", "law"),
    ("000_c5993c9bcff33843.txt", "强化质量基础支撑 助力中小企业发展", None, "中国市场监管新闻网", "2021-12-16", None, "news"),
    ("001_56e88020fa1795a7.txt", "市场监管总局办公厅关于聚焦中小企业质量提升 开展质量基础设施“一站式”服务行动的通知", "市监质发〔2021〕34号", "国家市场监督管理总局", "2021-05-24", None, "notice"),
    ("002_0521088d4878f055.txt", "市场监管部门打造质量服务“一站式”平台国产商品和服务加速提质升级（消费视窗）", None, None, None, None, "news"),
    ("003_e79713d7ae117acc.txt", "关于进一步发挥质量基础设施支撑引领民营企业提质增效升级作用的意见", None, "市场监管总局、全国工商联、国家发展改革委、科技部、工业和信息化部、商务部", "2021-11-05", None, "notice"),
    ("004_98b8eb4948b68c0f.txt", "精准帮扶2万余家小微企业！市场监管部门为企业纾困 提升质量管理能力", None, "中国经济网", "2023-03-28", None, "news"),
]  # fmt: skip

SOURCES = {
    "000_c5993c9bcff33843.txt": "中国市场监管新闻网",
    "001_56e88020fa1795a7.txt": "中华人民共和国文化和旅游部网站",
    "003_e79713d7ae117acc.txt": "国家市场监督管理总局官网",
    "004_98b8eb4948b68c0f.txt": "中国经济网",
}
FILES = [row[0] for row in EXPECTED]
PINYIN = re.compile(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ]{1,7}\)")
BOILERPLATE = ["版权所有", "ICP备", "返回首页", "分享到", "阅读次数", "责任编辑", "字体:", "字体：",
               "首页](#)", "layout: post", "<p>", "</p>", "关于我们", "公网安备", "天天快播",
               "在线播放", "服务电话", "标 题", "文 号", "来源:"]  # fmt: skip
ENDINGS = ("。", "！", "？", "；", "”", "’", "）", "：")


def library_path(file_name: str) -> Path:
    folder = "seeds" if file_name[0].isdigit() else "laws"
    return LIBRARY / folder / file_name


@cache
def parsed(file_name: str) -> ParsedDocument:
    return parse_file(library_path(file_name))


@cache
def simplifier() -> OpenCC:
    return OpenCC("t2s")


def test_every_library_file_is_covered() -> None:
    shipped = sorted(p.name for p in LIBRARY.rglob("*") if p.suffix in {".md", ".txt"})
    assert shipped == sorted(FILES)


@pytest.mark.parametrize(
    ("file_name", "title", "doc_number", "issuer", "issued", "effective", "kind"), EXPECTED
)
def test_metadata(
    file_name: str,
    title: str,
    doc_number: str | None,
    issuer: str | None,
    issued: str | None,
    effective: str | None,
    kind: str,
) -> None:
    doc = parsed(file_name).document
    assert (doc.title, doc.doc_number, doc.issuer) == (title, doc_number, issuer)
    assert (doc.date_issued, doc.date_effective, doc.kind.value) == (issued, effective, kind)
    assert doc.file_name == file_name
    assert doc.char_count == len(parsed(file_name).text)


@pytest.mark.parametrize("file_name", [f for f in FILES if f[0] in "LE"])
def test_laws_get_their_source_from_the_manifest(file_name: str) -> None:
    doc = parsed(file_name).document
    manifest = (LIBRARY / "laws" / "MANIFEST.tsv").read_text(encoding="utf-8")
    row = next(line.split("\t") for line in manifest.splitlines() if line.startswith(file_name))
    assert doc.source == row[2]
    assert doc.source_url and doc.source_url.startswith("https://github.com/")


@pytest.mark.parametrize(("file_name", "source"), sorted(SOURCES.items()))
def test_seeds_get_their_source_from_sources_tsv(file_name: str, source: str) -> None:
    assert parsed(file_name).document.source == source


def test_the_news_link_in_seed_000_is_its_source_url() -> None:
    doc = parsed("000_c5993c9bcff33843.txt").document
    assert doc.source_url == (
        "http://choicewzp1.eastmoney.com/html_News/NewsShare.html?infoCode=NW202112162215854489"
    )


@pytest.mark.parametrize("file_name", FILES)
def test_text_is_clean_simplified_chinese(file_name: str) -> None:
    doc = parsed(file_name)
    texts = [doc.text, *(chunk.text for chunk in doc.chunks), doc.document.title]
    for text in texts:
        assert not PINYIN.search(text)
        assert simplifier().convert(text) == text
        for junk in BOILERPLATE:
            assert junk not in text, junk


@pytest.mark.parametrize("file_name", FILES)
def test_chunks_are_bounded_and_end_at_sentence_or_paragraph_ends(file_name: str) -> None:
    doc = parsed(file_name)
    paragraphs = doc.text.split("\n")
    assert doc.chunks
    for index, chunk in enumerate(doc.chunks):
        assert chunk.chunk_id == f"{doc.document.doc_id}:{index:04d}"
        assert chunk.doc_id == doc.document.doc_id
        assert 0 < len(chunk.text) <= MAX_CHARS
        last = chunk.text.split("\n")[-1]
        assert last.endswith(ENDINGS) or any(p.endswith(last) for p in paragraphs), last
        if chunk.section:
            assert not chunk.text.startswith(chunk.section.split(" > ")[-1])


@pytest.mark.parametrize("file_name", [f for f in FILES if f[0] in "LE"])
def test_law_articles_are_one_per_chunk_with_their_label(file_name: str) -> None:
    doc = parsed(file_name)
    labels = re.findall(r"^(第[一二三四五六七八九十百零]+条) ", doc.text, re.M)
    chunked = [c.article for c in doc.chunks if c.article]
    assert sorted(set(chunked), key=chunked.index) == labels
    for chunk in doc.chunks:
        if chunk.article and chunked.count(chunk.article) == 1:
            assert chunk.text.startswith(chunk.article + " ")


def test_article_26_of_the_product_quality_law() -> None:
    chunks = [c for c in parsed("L01_产品质量法_2018.md").chunks if "第二十六条" in c.text]
    first = chunks[0]
    assert first.article == "第二十六条" and first.article_no == 26
    assert first.section.startswith("第三章 生产者、销售者的产品质量责任和义务")
    assert "（三）符合在产品或者其包装上注明采用的产品标准" in first.text
    penalties = [c for c in parsed("L01_产品质量法_2018.md").chunks if c.article == "第五十条"]
    assert penalties[0].section == "第五章 罚则"


def test_food_safety_law_article_numbers_past_one_hundred() -> None:
    chunks = parsed("L10_食品安全法_2021.md").chunks
    last = [c for c in chunks if c.article == "第一百五十四条"]
    assert last and last[0].article_no == 154 and last[0].section == "第十章 附则"


def test_notice_001_chunks_carry_numbered_headings() -> None:
    chunks = parsed("001_56e88020fa1795a7.txt").chunks
    sections = {c.section for c in chunks}
    assert "一、工作目标" in sections
    assert "二、重点任务 > （三）深入开展质量技术帮扶服务" in sections
    assert "四、有关要求 > （三）做好宣传报道" in sections
    help_chunk = next(
        c for c in chunks if c.section == "二、重点任务 > （三）深入开展质量技术帮扶服务"
    )
    assert help_chunk.text.startswith("推广先进质量管理模式方法")
    assert all(c.article is None for c in chunks)


def test_seed_003_is_converted_and_structured() -> None:
    doc = parsed("003_e79713d7ae117acc.txt")
    assert "加大CCC认证自我声明实施力度，简化认证产品变更程序。" in doc.text
    assert "中国(云南)" not in doc.text  # the address banner above the headline is gone
    assert "二、重点任务 > （九）优化民营企业发展政策环境" in {c.section for c in doc.chunks}


def test_seed_004_drops_the_spam_headline_and_repairs_the_garble() -> None:
    doc = parsed("004_98b8eb4948b68c0f.txt")
    assert doc.text.startswith("中国经济网北京3月28日讯")
    assert "成为引领当地乡村振兴的主导产业" in doc.text


def test_seed_002_full_width_spaces_become_paragraphs() -> None:
    doc = parsed("002_0521088d4878f055.txt")
    assert "\u3000" not in doc.text
    assert doc.text.split("\n")[0] == "核心阅读"
    assert {"核心阅读", "严标准", "强品牌", "优品质"} <= {c.section for c in doc.chunks}


def test_seed_000_bold_lines_are_sections() -> None:
    sections = [c.section for c in parsed("000_c5993c9bcff33843.txt").chunks]
    assert sections[0] == ""
    assert "加强统筹协调扎实有序开展专项行动" in sections
    assert sections[-1] == "凝聚部门合力推动民营企业提质增效升级"


def test_law_13_appendix_list_stays_together() -> None:
    chunks = parsed("L13_强制检定的工作计量器具检定管理办法_1987.md").chunks
    listed = [c for c in chunks if "10．秤" in c.text]
    assert listed and listed[0].section == "附 > 中华人民共和国强制检定的工作计量器具目录"
    assert listed[0].article is None
