"""Outline (headings, articles) and chunking of Chinese official texts."""

from __future__ import annotations

import pytest

from ingest import chunking
from ingest.chunking import MAX_CHARS, make_chunks, pack, split_sentences
from ingest.structure import article_label, enumerated, inline_heading, outline, part_heading

LAW = [
    "2018年12月29日 第十三届全国人民代表大会常务委员会第七次会议修正",
    "## 第一章 总 则",
    "第一条 为了加强对产品质量的监督管理，制定本法。",
    "第二条 在中华人民共和国境内从事产品生产、销售活动，必须遵守本法。",
    "本法所称产品是指经过加工、制作，用于销售的产品。",
    "## 第三章 生产者、销售者的产品质量责任和义务",
    "### 第一节 生产者的产品质量责任和义务",
    "第二十六条 生产者应当对其生产的产品质量负责。",
    "产品质量应当符合下列要求：",
    "（一）不存在危及人身、财产安全的不合理的危险；",
    "（二）具备产品应当具备的使用性能。",
    "第五章 罚则",
    "第一百零五条 违反本法规定的，依法追究法律责任。",
    "附：",
    "中华人民共和国强制检定的工作计量器具目录",
    "下列工作计量器具，实行强制检定：",
    "1．尺",
    "2．面积计",
]

NOTICE = [
    "各省、自治区、直辖市市场监管局：",
    "为深入贯彻落实党中央、国务院决策部署，现就有关事项通知如下：",
    "一、工作目标",
    "加强质量基础设施协同服务体系和全国性网络建设，切实助推高质量发展。",
    "二、重点任务",
    "（一）加强质量基础设施协同服务。树立“大市场、大质量、大监管”理念。",
    "(二) 开展计量、标准、认证认可等专项服务活动。结合世界标准日开展活动。",
    "**三、推进措施**",
    "(一) 优化政策环境。努力将质量基础设施建设纳入总体部署。",
    "联系人：质量发展局",
    "市场监管总局办公厅",
    "2021年5月21日",
    "附件：1. 典型案例征集要求.docx",
]


def test_article_labels() -> None:
    assert article_label("第二十六条 生产者应当…") == ("第二十六条", 26)
    assert article_label("第一百零五条　违反…") == ("第一百零五条", 105)
    assert article_label("第12条 数字条号") == ("第12条", 12)
    assert article_label("第二十一条规定的检验机构") is None


def test_part_headings_normalise_spacing() -> None:
    assert part_heading("第一章 总 则") == ("第一章 总则", 21)
    assert (
        part_heading("第一节 生产者的产品质量责任和义务")[0] == "第一节 生产者的产品质量责任和义务"
    )
    assert part_heading("第一章规定的事项，依照本法执行。") is None


def test_enumerated_labels_are_normalised() -> None:
    assert enumerated("(二) 探索建设区域平台")[:2] == ("（二）", "探索建设区域平台")
    assert enumerated("一、工作目标")[:2] == ("一、", "工作目标")
    assert enumerated("1．尺")[:2] == ("1.", "尺")
    assert enumerated("2021年工作要点") is None


def test_inline_heading_is_a_short_lead_phrase() -> None:
    assert inline_heading("加强组织领导。要精心组织。") == ("加强组织领导", "要精心组织。")
    assert inline_heading("销售者应当建立并执行进货检查验收制度，验明产品合格证明。") is None
    assert inline_heading("只有一句。") is None


def test_law_outline_follows_chapters_sections_and_articles() -> None:
    blocks = outline(LAW).blocks
    placed = [(" > ".join(b.section), b.article, b.article_no, b.paragraphs) for b in blocks]
    assert placed[0] == ("", None, None, [LAW[0]])
    assert placed[1] == ("第一章 总则", "第一条", 1, [LAW[2]])
    assert placed[2] == ("第一章 总则", "第二条", 2, LAW[3:5])
    assert placed[3] == (
        "第三章 生产者、销售者的产品质量责任和义务 > 第一节 生产者的产品质量责任和义务",
        "第二十六条",
        26,
        LAW[7:11],
    )
    assert placed[4] == ("第五章 罚则", "第一百零五条", 105, [LAW[12]])
    assert placed[5] == ("附 > 中华人民共和国强制检定的工作计量器具目录", None, None, LAW[15:])


def test_notice_outline_uses_numbered_headings_and_drops_them_from_the_text() -> None:
    blocks = outline(NOTICE).blocks
    placed = [(" > ".join(b.section), b.paragraphs) for b in blocks]
    assert placed == [
        ("", NOTICE[:2]),
        ("一、工作目标", [NOTICE[3]]),
        ("二、重点任务 > （一）加强质量基础设施协同服务", ["树立“大市场、大质量、大监管”理念。"]),
        (
            "二、重点任务 > （二）开展计量、标准、认证认可等专项服务活动",
            ["结合世界标准日开展活动。"],
        ),
        (
            "三、推进措施 > （一）优化政策环境",
            ["努力将质量基础设施建设纳入总体部署。", "联系人：质量发展局"],
        ),
        ("", ["市场监管总局办公厅", "2021年5月21日", "附件：1. 典型案例征集要求.docx"]),
    ]


def test_short_standalone_lines_before_text_are_headings() -> None:
    lines = [
        "核心阅读",
        "市场监管部门为企业提供“一站式”服务。",
        "严标准——",
        "一碗螺蛳粉，如果没有标准化，难以做成大产业。",
    ]
    sections = [b.section for b in outline(lines).blocks]
    assert sections == [("核心阅读",), ("严标准",)]


def test_signature_lines_are_not_headings() -> None:
    lines = ["正文。", "市场监管总局", "全国工商联", "2021年9月28日"]
    blocks = outline(lines).blocks
    assert [b.section for b in blocks] == [()]
    assert blocks[0].paragraphs == lines


def test_split_sentences_keeps_end_marks_and_quotes() -> None:
    assert split_sentences("他说：“好。”然后走了；最后？没有结尾") == [
        "他说：“好。”",
        "然后走了；",
        "最后？",
        "没有结尾",
    ]


def test_pack_merges_short_units_up_to_the_target() -> None:
    assert pack(["甲" * 100, "乙" * 100, "丙" * 250], "\n", target=220) == [
        "甲" * 100 + "\n" + "乙" * 100,
        "丙" * 250,
    ]
    # a tiny tail joins the piece before it
    assert pack(["甲" * 300, "乙" * 20], "\n", target=300) == ["甲" * 300 + "\n" + "乙" * 20]


def test_one_article_per_chunk_and_ids() -> None:
    chunks = make_chunks("abcd", outline(LAW).blocks)
    articles = [c.article for c in chunks]
    assert articles == [None, "第一条", "第二条", "第二十六条", "第一百零五条", None]
    assert [c.chunk_id for c in chunks][:2] == ["abcd:0000", "abcd:0001"]
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    article = chunks[3]
    assert article.text.startswith("第二十六条 生产者")
    assert article.text.endswith("（二）具备产品应当具备的使用性能。")  # list items stay with it
    assert article.section.endswith("第一节 生产者的产品质量责任和义务")


def test_long_article_is_split_at_sentence_ends_and_keeps_its_label() -> None:
    sentence = "生产者应当" + "保证产品质量符合标准" * 10 + "。"
    paragraphs = ["第九条 " + sentence * 3, sentence * 3]
    chunks = make_chunks("d", outline(paragraphs).blocks)
    assert len(chunks) >= 2
    assert all(c.article == "第九条" and c.article_no == 9 for c in chunks)
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(c.text.replace("\n", "") for c in chunks) == "".join(paragraphs)


def test_a_sentence_longer_than_the_limit_is_cut_at_commas() -> None:
    clause = "质量基础设施服务" * 10 + "，"
    sentence = clause * 12 + "完成。"
    pieces = chunking.fit_paragraph(sentence)
    assert len(pieces) >= 2
    assert all(len(p) <= MAX_CHARS for p in pieces)
    assert all(p.endswith(("，", "。")) for p in pieces)
    assert "".join(pieces) == sentence


@pytest.mark.parametrize("length", [1200, 5000])
def test_text_without_any_punctuation_is_still_bounded(length: int) -> None:
    pieces = chunking.fit_paragraph("字" * length)
    assert all(len(p) <= MAX_CHARS for p in pieces)
    assert "".join(pieces) == "字" * length
