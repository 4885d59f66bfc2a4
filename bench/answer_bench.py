"""Answering benchmark on the shipped library: time from process start to the first answer,
warm `ask` latency p50/p95 (the query cache off, so every ask embeds its question) for short
questions (≤ 60 characters) and for consultations of about 300 characters, peak memory.

    .venv/bin/python -m bench.answer_bench [--questions FILE] [--rounds N] [--out FILE]

Run after `qadesk setup` (it uses the configured data dir). Questions come from an evaluation
file or the built-in list below.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (the clock above starts before any import)
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

QUESTIONS = [
    "个体户可以自己修秤吗",
    "检测机构资质认定证书几年有效",
    "没拿生产许可证就生产会怎么罚",
    "在网上开个小店卖东西要办营业执照吗",
    "汽车召回计划要不要报备",
    "企标能不能比国标低",
    "小规模纳税人增值税税率是多少",
    "一站式服务行动的通知文号是多少",
]


# Consultations of about 300 characters, the length real askers write: a story, then a question.
LONG_QUESTIONS = [
    "我是在县城开小超市的，上个月市场监管局的人来店里检查，在货架上翻出来几包饼干和两瓶饮料，"
    "生产日期看着是去年的，保质期已经过了大概一个星期，我们平时进货多、盘点也不及时，真的是没注意到，"
    "不是故意卖的。店里就我和我爱人两个人，白天看店晚上对账，过期的东西以前也偶尔会有，一般都是自己拿回家吃了，"
    "这次正好赶上检查。当时执法人员拍了照，做了笔录，把这些东西都拿走了，说回去以后会根据情况处理，"
    "让我们等通知。我们店一年也就挣个几万块钱，听说卖过期食品罚得很重，心里很没底，"
    "也不知道要准备些什么材料。想请问一下，按照法律规定，销售超过保质期的食品一般会怎么处罚，"
    "罚款的标准是怎么定的？",
    "前段时间我在一个网店买了一台空气炸锅，商品页面上写的是不锈钢内胆、大容量、七天无理由退换，"
    "收到货以后拆开用了一次，发现内胆其实是涂层的，而且味道很大，跟页面宣传的完全不一样。"
    "我联系客服说要退货，客服一开始说已经使用过了不能退，后来又说可以退但是来回运费要我自己出，"
    "还要扣掉百分之二十的折旧费。我把商品页面截了图，也留着和客服的聊天记录，包装盒和配件都还在，"
    "发票也有，平台客服那边介入了两次，每次都说让我们自己协商。我觉得很不合理，东西明明和宣传不符，凭什么要我承担这些费用。"
    "我想知道网上买的东西，商家宣传和实物不一致的时候，消费者有哪些权利，运费应该由谁来承担？",
    "我们是一家做电线电缆的小厂，二十来个工人，产品主要卖给本地的建材市场和一些装修公司，"
    "最近有个客户说要做政府的项目，需要我们提供产品的认证证书和检验报告，"
    "客户还说以后每批货都要附报告，不然不给结款。我们厂是十几年前就开始做的，设备也比较老，"
    "一直是老板自己跑销售，管理上比较粗放，只有出厂自己检的记录。听同行说电线电缆属于强制性认证的产品，"
    "没有证书根本不能卖，也有人说只要有检测报告就行，说法不一，我们也搞不清楚，"
    "又怕被罚款。想问问专家，电线电缆到底需不需要做3C认证，要办的话一般是找什么机构、走什么程序？",
]


def questions_from(path: Path | None) -> tuple[list[str], list[dict[str, Any]]]:
    """The questions of an evaluation file and its items, or the built-in questions."""
    if path is None or not path.exists():
        return list(QUESTIONS), []
    from app.evaluation import read_items

    items = read_items(path.read_text("utf-8").splitlines())
    return [str(item["question"]) for item in items], items


def _timed(kb: Any, questions: list[str], rounds: int) -> list[float]:
    for question in questions:  # warm: each question once before timing
        kb.answer(question)
    latencies = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            kb.answer(question)
            latencies.append(time.perf_counter() - started)
    return latencies


def run(questions: list[str], rounds: int) -> dict[str, Any]:
    from app import bootstrap
    from app.settings import Settings
    from bench.common import measuring_embedder, ms_percentiles, peak_rss_mb, require_library

    settings = Settings()
    kb = require_library(bootstrap.build_knowledge(settings, measuring_embedder(settings)))
    kb.answer(questions[0])
    first = time.perf_counter() - STARTED
    short = [q for q in questions if len(q) <= 60] or questions
    latencies = _timed(kb, short, rounds)
    long = _timed(kb, LONG_QUESTIONS, rounds)
    return {
        "bench": "answer",
        "documents": len(kb.documents()),
        "asks": len(latencies),
        "start_to_first_answer_s": round(first, 2),
        **ms_percentiles(latencies, "warm_"),
        "long_chars_p50": sorted(len(q) for q in LONG_QUESTIONS)[len(LONG_QUESTIONS) // 2],
        **ms_percentiles(long, "warm_long_"),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    from bench.common import emit

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=Path, help="an evaluation file (JSONL)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    args = parser.parse_args(argv)
    result = run(questions_from(args.questions)[0], max(1, args.rounds))
    emit(result, [(k.replace("_", " "), v) for k, v in result.items() if k != "bench"], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
