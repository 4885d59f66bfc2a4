"""A LangChain chat model for tests of the LLM composer's plumbing: it reads the passages in the
prompt and answers with the first sentence of passage [1], citing [1], as JSON.

``gate``: when set, each call waits for it (a slow model); ``calls`` counts the calls and
``finished`` is set after each reply is written.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import ConfigDict, Field

from knowledge.text import split_sentences

LEAD = "按规定，"  # what this model adds, so a composed answer is told from the extractive one
_FIRST = re.compile(r"^\[1\] [^\n]*\n(.*?)(?:\n\n\[2\] |\n\n问题：)", re.S | re.M)


class QuotingChatModel(FakeListChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    responses: list[str] = Field(default_factory=lambda: ["unused"])
    gate: threading.Event | None = None
    finished: threading.Event = Field(default_factory=threading.Event)
    calls: int = 0

    def _call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(30)
        prompt = str(messages[-1].content)
        found = _FIRST.search(prompt)
        passage = found.group(1) if found else ""
        first = split_sentences(passage)[0] if passage else ""
        first = re.sub(r"^第[零一二三四五六七八九十百千]+条\s*", "", first)
        reply = {"answerable": True, "sentences": [{"text": LEAD + first, "passages": [1]}]}
        self.finished.set()
        return json.dumps(reply, ensure_ascii=False)
