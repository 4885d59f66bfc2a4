"""The character-level cleaning functions, one behaviour at a time."""

from __future__ import annotations

import pytest

from core.text import is_pinyin_syllable, to_simplified
from ingest import cleaning
from ingest.html_text import html_to_text, looks_like_html


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("中國(云南)自由貿(mào)易實(shí)驗(yàn)區(qū)", "中國(云南)自由貿易實驗區"),
        ("尊法學(xué)法守法用法", "尊法學法守法用法"),  # é, and the ü-less "xue"
        ("綠(lǜ)色", "綠色"),
        ("幫(bāng)扶(fú)(NQI)平台", "幫扶(NQI)平台"),
        ("市場監(jiān)管局(委、廳)", "市場監管局(委、廳)"),
        ("（国市监质〔2020〕177号）", "（国市监质〔2020〕177号）"),
        ("(一)引導(dǎo)", "(一)引導"),
        ("各省(区、市)人民政府", "各省(区、市)人民政府"),
        ("品牌(logo)设计", "品牌(logo)设计"),  # an English word, not a pinyin syllable
        ("ISO(abc)", "ISO(abc)"),  # not after a Chinese character
    ],
)
def test_remove_pinyin_only_removes_annotations(raw: str, clean: str) -> None:
    assert cleaning.remove_pinyin(raw) == clean


def test_remove_pinyin_repairs_the_garble_left_by_annotating_mirrors() -> None:
    garbled = "成為引領(lǐng)當(dāng)?shù)剜l(xiāng)村振興"
    assert cleaning.remove_pinyin(garbled) == "成為引領當地鄉村振興"


@pytest.mark.parametrize("word", ["zhì", "lüè", "xué", "zhuàng", "de", "er", "ng", "yuán"])
def test_pinyin_syllables_are_recognised(word: str) -> None:
    assert is_pinyin_syllable(word)


@pytest.mark.parametrize("word", ["logo", "abc", "qq", "ok"])
def test_other_words_are_not_pinyin(word: str) -> None:
    assert not is_pinyin_syllable(word)


def test_to_simplified_converts_traditional_and_leaves_simplified_alone() -> None:
    assert to_simplified("質量基礎設施與標準化") == "质量基础设施与标准化"
    simplified = "中华人民共和国产品质量法（2018年修正）第二十六条"
    assert to_simplified(simplified) is simplified


def test_front_matter_is_parsed_and_removed() -> None:
    fields, body = cleaning.split_front_matter(
        '---\nlayout: post\ntitle: "强化质量基础支撑"\ndate: 2021-12-16 11:20:41 +0800\n---\n<p>正文</p>'
    )
    assert fields == {
        "layout": "post",
        "title": "强化质量基础支撑",
        "date": "2021-12-16 11:20:41 +0800",
    }
    assert body == "<p>正文</p>"


def test_text_without_front_matter_is_unchanged() -> None:
    assert cleaning.split_front_matter("正文\n---\n") == ({}, "正文\n---\n")


def test_full_width_space_runs_become_paragraph_breaks() -> None:
    text = "标题　　核心阅读　　第一段。　　　　第二段。第一次修订　"
    assert cleaning.normalize_lines(cleaning.ideographic_space_breaks(text)) == [
        "标题",
        "核心阅读",
        "第一段。",
        "第二段。第一次修订",
    ]


def test_half_width_punctuation_after_chinese_becomes_full_width() -> None:
    assert cleaning.fullwidth_punctuation("民营企业,质量基础设施;行动!是吗?来源:网") == (
        "民营企业，质量基础设施；行动！是吗？来源：网"
    )
    assert cleaning.fullwidth_punctuation("http://a.cn 20:40:24 1,000") == (
        "http://a.cn 20:40:24 1,000"
    )


def test_spaces_between_digits_and_chinese_are_removed() -> None:
    assert cleaning.tighten_digit_spaces("2015 年4 月9 日总局令第163 号，保存6 年") == (
        "2015年4月9日总局令第163号，保存6年"
    )
    assert cleaning.tighten_digit_spaces("质量提升 开展服务") == "质量提升 开展服务"


def test_spaced_out_pdf_text_is_closed_up_but_ordinary_spaces_stay() -> None:
    spaced = "第 一 条 为 了 加 强 计 量 监 督 管 理 ， 制 定 本 办 法 。"
    assert cleaning.close_cjk_gaps(spaced) == "第一条为了加强计量监督管理，制定本办法。"
    ordinary = "市场监管总局办公厅关于聚焦中小企业质量提升 开展质量基础设施服务行动的通知"
    assert cleaning.close_cjk_gaps(ordinary) == ordinary


def test_html_comments_are_removed() -> None:
    assert (
        cleaning.strip_html_comments("标题\n<!-- INFO END -->\n正文<!--\n注释\n-->。")
        == "标题\n\n正文。"
    )


def test_markdown_links_keep_their_text() -> None:
    assert cleaning.strip_markdown_links("见[产品质量法](http://x.cn/a(1).md)![图](a.png)") == (
        "见产品质量法"
    )


def test_normalize_characters_drops_invisible_marks_and_odd_spaces() -> None:
    assert (
        cleaning.normalize_characters("\ufeff质量\u200b管理\r\n标准\xa0化\r")
        == "质量管理\n标准 化\n"
    )


def test_unwrap_lines_joins_hard_wrapped_pdf_lines_only() -> None:
    lines = [
        "关于加强计量监督的通知",
        "第一条 为了加强计量监督管理，提高计量器具的准确性，保障贸易结算公",
        "正，根据有关法律法规，制定本办法。",
        "第二条 本办法所称计量器具，是指能用以直接或者间接测出被测对象量值的装",
        "置、仪器仪表、量具和用于统一量值的标准物质。",
        "- 1 -",
        "第三条 本办法自发布之日起施行。",
    ]
    assert cleaning.unwrap_lines(lines) == [
        "关于加强计量监督的通知",
        "第一条 为了加强计量监督管理，提高计量器具的准确性，保障贸易结算公正，根据有关法律法规，制定本办法。",
        "第二条 本办法所称计量器具，是指能用以直接或者间接测出被测对象量值的装置、仪器仪表、量具和用于统一量值的标准物质。",
        "第三条 本办法自发布之日起施行。",
    ]


def test_html_keeps_paragraphs_and_marks_bold_and_headings() -> None:
    html = (
        "<html><head><title>通知_国家市场监督管理总局</title></head><body>"
        "<nav>首页 政务</nav><h2>一、总体要求</h2><p>第一段&amp;说明。<br>第二行。</p>"
        "<p><strong>加强统筹协调</strong></p><p>正文<strong>强调</strong>部分。</p>"
        "<script>var x = '脚本';</script><div class='footer'>版权所有</div></body></html>"
    )
    text, hints = html_to_text(html)
    assert text.split("\n\n") == [
        "## 一、总体要求",
        "第一段&说明。\n第二行。",
        "**加强统筹协调**",
        "正文强调部分。",
    ]
    assert hints == {"title": "通知"}  # the page title without the site name


def test_html_hints_come_from_meta_tags() -> None:
    _, hints = html_to_text(
        '<html><head><meta name="ArticleTitle" content="关于X的通知">'
        '<meta name="PubDate" content="2020-05-11"></head><body><p>正文。</p></body></html>'
    )
    assert hints == {"title": "关于X的通知", "date": "2020-05-11"}


def test_text_files_with_a_few_tags_are_recognised_as_html() -> None:
    assert looks_like_html("<p>第一段</p>\n<p>第二段</p>")
    assert not looks_like_html("第一条 a<b 的情形。")
