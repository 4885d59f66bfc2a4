"""Cues in a question's wording, counted as features of the learned decision.

None of them decides alone: the decision (``knowledge.decision``) weighs them with what
retrieval found, with weights fitted on real questions. The kinds:

- **needs an expert's judgement about the asker's own case**: the question describes something
  that already happened to the asker (a batch that failed, goods already shipped, a customer
  demanding money, two reports that disagree) *and* asks what to do or who is right. A general
  question ("进货要不要查生产许可证") is answerable; "我们这批货已经发出去5万包了，怎么办" is not.
- **a request the desk declines on principle**: to recommend a company or give contacts.

Messages that are no question at all (a greeting, thanks) are recognised too, so they get a
friendly word instead of a ticket for an expert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.question import split_options

# Something concrete already happened to the asker (an incident, a dispute, a specific lot).
_INCIDENT = [
    r"已经",
    r"已(?:发|卖|出|售|上市)",
    r"(?:这|那|一|整)批",
    r"同一批",
    r"被(?:退|查|罚|投诉|起诉|抽检|召回|扣)",
    r"退回来",
    r"(?:没|未)(?:过|通过)",
    r"不合格了",
    r"出了?问题",
    r"出事",
    r"着火",
    r"起火",
    r"爆炸",
    r"受伤",
    r"(?:顾客|客户|消费者|对方|买家)(?:说|要求|要|索赔|投诉说)",
    r"要我们",
    r"给我们(?:出|开|罚|判)",
    r"两家.{0,8}(?:不一样|不同|不一致)",
    r"结果不一样",
    r"对不上",
    r"(?:结果|数据|报告)不一致",
    r"(?:我们|我司|我厂)(?:的)?(?:企标|产品|货|厂)",
    r"\d+(?:\.\d+)?\s*万?(?:包|件|台|箱|吨|批|瓶|袋|盒)",
]
# …and the asker wants a decision about it.
_DECISION = [
    r"怎么办",
    r"咋办",
    r"怎么处理",
    r"如何处理",
    r"怎么弄",
    r"要不要(?:赔|召回|全部|重新)",
    r"该不该",
    r"(?:该|应该)(?:我们|谁|他们|对方)",
    r"还是",
    r"到底",
    r"信哪个",
    r"谁说了算",
    r"听谁的",
    r"听哪个",
    r"(?:还能|能不能|可以)继续",
    r"(?:要|需要|得)重新",
    r"赔不赔",
    r"要赔",
    r"算不算",
    r"合不合法",
    r"违不违法",
    r"有没有责任",
    r"责任(?:在|归)谁",
]
# Always a matter for a lawyer or an expert, however it is asked.
_DISPUTE = [r"索赔", r"起诉", r"打官司", r"仲裁", r"赔(?:我们|他们|对方)?\s*\d+\s*万"]

# Requests the desk declines on principle (naming companies, giving contacts).
_RECOMMEND = [r"推荐(?:一|几)?(?:家|个|些)", r"哪家(?:好|靠谱|便宜)", r"给个电话", r"联系方式"]


@dataclass(frozen=True, slots=True)
class Cues:
    """The cues found in a question, by kind (each a matched phrase)."""

    incident: tuple[str, ...]
    decision: tuple[str, ...]
    dispute: tuple[str, ...]
    recommend: tuple[str, ...]

    def all(self) -> tuple[str, ...]:
        return self.incident + self.decision + self.dispute + self.recommend


def _hits(patterns: list[str], text: str) -> tuple[str, ...]:
    return tuple(m.group(0) for p in patterns if (m := re.search(p, text)))


def find_cues(question: str) -> Cues:
    """The cues of each kind in a (normalised, Simplified) question; see the module docstring.

    Only the asker's own words count: an exam item's options are statements to judge ("B. 提供
    生产者的联系方式"), not a request or a story of the asker's."""
    question = split_options(question)[0]
    return Cues(
        _hits(_INCIDENT, question),
        _hits(_DECISION, question),
        _hits(_DISPUTE, question),
        _hits(_RECOMMEND, question),
    )


# Whole messages that ask nothing: a greeting, or thanks/acknowledgement.
_GREETING = r"你好|您好|hi|hello|hey|哈喽|哈啰|嗨|在吗|在不在|有人吗|有人在吗|早上好|上午好|下午好|晚上好|请问"
_THANKS = r"谢谢|多谢|感谢|谢了|谢啦|thanks|thankyou|thx|好的|好滴|明白了|知道了|收到|ok|okay|懂了|嗯|哦|噢"
_FILLER = r"啊|呀|呢|哈|吧|嘛|哇|了|您|你|老师|专家|大家|各位|客服|机器人|小助手|非常|很|太"
_NOT_WORDS = re.compile(r"[\W_]+", re.UNICODE)


def small_talk(question: str) -> str | None:
    """``"greeting"`` or ``"thanks"`` when the whole message is only that, else None."""
    text = _NOT_WORDS.sub("", question.lower())
    if not text or len(text) > 16:
        return None
    for kind, words in (("greeting", _GREETING), ("thanks", _THANKS)):
        if re.fullmatch(rf"(?:{words}|{_FILLER})+", text) and re.search(words, text):
            return kind
    return None
