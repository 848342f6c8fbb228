"""Read a GGUF file's header (metadata and tensor table) without loading its weights.

Used to vet a file before llama.cpp sees it (wrong model, truncated download) and
to plan memory. The `gguf` package's GGUFReader is not used: it builds numpy views
for every vocabulary string (8 s for a 49k-token vocabulary here, far more for
gpt-oss's 201k) and fails on damaged files with errors no person can act on.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..engine import ModelLoadError
from ..files import NotRegularFileError, open_regular

GGUF_MAGIC = b"GGUF"

SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4
#: More bytes than any model file has (10 TB): a header claiming more is damaged, not an unfinished download.
ABSURD_SIZE = 10**13

# ggml type id -> (elements per block, bytes per block), as in gguf-py 0.19.0 (GGML_QUANT_SIZES).
GGML_BLOCK_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 40),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}  # fmt: skip

# GGUF metadata value types: id -> struct format of a scalar (8 = string, 9 = array).
_SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
_U64 = struct.Struct("<Q")


class GGUFError(ModelLoadError):
    """A file cannot be used as a GGUF model; the message names the file and what to do."""


class NotGGUFError(GGUFError):
    """The file is not a GGUF file at all."""


class TruncatedGGUFError(GGUFError):
    """The file ends before its header or its tensor data does (an interrupted download)."""


class UnsupportedGGUFError(GGUFError):
    """A GGUF this app's llama.cpp cannot read: another version, byte order or tensor type."""


class CorruptGGUFError(GGUFError):
    """The header holds values no valid GGUF has."""


@dataclass(frozen=True)
class SkippedArray:
    """A metadata array too long to keep (vocabularies, merges): only its type and length."""

    item_type: int
    length: int


MetadataValue = int | float | bool | str | tuple[int | float | bool | str, ...] | SkippedArray


@dataclass(frozen=True)
class TensorInfo:
    """One tensor's entry in the header; `offset` is relative to the start of the tensor data."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int
    n_bytes: int


@dataclass(frozen=True)
class GGUFInfo:
    """What a GGUF header says, plus the size the file must have to hold all its tensors."""

    path: Path
    version: int
    metadata: Mapping[str, MetadataValue]
    tensors: tuple[TensorInfo, ...]
    alignment: int
    data_offset: int
    file_size: int

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return value if isinstance(value, str) else None

    @property
    def tensor_data_size(self) -> int:
        """Bytes from the start of the tensor data to the end of the last tensor."""
        return max((t.offset + t.n_bytes for t in self.tensors), default=0)

    @property
    def expected_file_size(self) -> int:
        return self.data_offset + self.tensor_data_size

    @property
    def missing_bytes(self) -> int:
        return max(0, self.expected_file_size - self.file_size)

    @property
    def is_complete(self) -> bool:
        return self.missing_bytes == 0

    def get_int(self, key: str) -> int | None:
        """An integer value, or None if the key is absent or holds something else."""
        value = self.metadata.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def require_int(self, key: str) -> int:
        value = self.get_int(key)
        if value is None:
            raise CorruptGGUFError(f"{self.path.name} lacks the setting {key}, which llama.cpp needs to load it.")
        return value


class _EndOfDataError(Exception):
    """The header claims more bytes than the file has."""


class _Cursor:
    """Sequential little-endian reads from a buffer, raising _EndOfDataError past its end."""

    def __init__(self, buffer: mmap.mmap | bytes) -> None:
        self.buffer = buffer
        self.size = len(buffer)
        self.pos = 0

    def take(self, n: int) -> int:
        """Advance by n bytes and return where they start."""
        start = self.pos
        if n < 0 or start + n > self.size:
            raise _EndOfDataError
        self.pos = start + n
        return start

    def scalar(self, fmt: str) -> int | float | bool:
        start = self.take(struct.calcsize(fmt))
        value: int | float | bool = struct.unpack_from("<" + fmt, self.buffer, start)[0]
        return value

    def u32(self) -> int:
        return int(self.scalar("I"))

    def u64(self) -> int:
        return int(self.scalar("Q"))

    def string(self) -> str:
        n = self.u64()
        start = self.take(n)
        return bytes(self.buffer[start : start + n]).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        """Skip `count` strings; a tight loop, since a vocabulary holds hundreds of thousands."""
        unpack, buffer, size, pos = _U64.unpack_from, self.buffer, self.size, self.pos
        for _ in range(count):  # ends at the file's end at the latest: each string takes 8 bytes or more
            if pos + 8 > size:
                raise _EndOfDataError
            pos += 8 + unpack(buffer, pos)[0]
        if pos > size:
            raise _EndOfDataError
        self.pos = pos


def _size_text(n: int) -> str:
    """File sizes the way download pages show them (decimal units)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return "1 byte" if n == 1 else f"{n} bytes"


def _read_value(cur: _Cursor, value_type: int, max_array_items: int, path: Path, key: str) -> MetadataValue:
    if value_type in _SCALAR_FORMATS:
        return cur.scalar(_SCALAR_FORMATS[value_type])
    if value_type == _STRING:
        return cur.string()
    if value_type != _ARRAY:
        raise CorruptGGUFError(f"{path.name} is damaged: the setting {key} has an unknown value type ({value_type}).")
    item_type, length = cur.u32(), cur.u64()
    if item_type in _SCALAR_FORMATS:
        fmt = _SCALAR_FORMATS[item_type]
        start = cur.take(length * struct.calcsize(fmt))
        if length > max_array_items:
            return SkippedArray(item_type, length)
        return tuple(struct.unpack_from(f"<{length}{fmt}", cur.buffer, start))
    if item_type != _STRING:
        raise CorruptGGUFError(f"{path.name} is damaged: the list {key} has items of unknown type ({item_type}).")
    if length > max_array_items:
        cur.skip_strings(length)
        return SkippedArray(item_type, length)
    return tuple(cur.string() for _ in range(length))


def _tensor_bytes(path: Path, name: str, shape: tuple[int, ...], ggml_type: int) -> int:
    if ggml_type not in GGML_BLOCK_SIZES:
        raise UnsupportedGGUFError(
            f"{path.name} stores tensor {name} in a format (ggml type {ggml_type}) this version does not know; "
            "a newer version of the app, or another conversion of the model, is needed."
        )
    block, block_bytes = GGML_BLOCK_SIZES[ggml_type]
    if shape and shape[0] % block:
        raise CorruptGGUFError(f"{path.name} is damaged: tensor {name} has a shape its format cannot hold.")
    elements = 1
    for dim in shape:
        elements *= dim
    return elements // block * block_bytes


def _check_version(path: Path, version: int) -> None:
    if version in SUPPORTED_VERSIONS:
        return
    if version & 0xFFFF == 0 and int.from_bytes(version.to_bytes(4, "little"), "big") in SUPPORTED_VERSIONS:
        raise UnsupportedGGUFError(f"{path.name} is a big-endian GGUF, made for another kind of processor.")
    if version == 1:
        raise UnsupportedGGUFError(
            f"{path.name} uses GGUF version 1, an old format llama.cpp no longer loads; download a newer conversion."
        )
    raise UnsupportedGGUFError(
        f"{path.name} uses GGUF version {version}, which this version of the app does not understand."
    )


def _parse(cur: _Cursor, path: Path, file_size: int, max_array_items: int, stop_after_architecture: bool) -> GGUFInfo:
    if bytes(cur.buffer[:4]) != GGUF_MAGIC:
        raise NotGGUFError(f"{path.name} is not a GGUF model file (it does not start with the GGUF signature).")
    cur.take(4)
    version = cur.u32()
    _check_version(path, version)
    n_tensors, n_kv = cur.u64(), cur.u64()
    metadata: dict[str, MetadataValue] = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = _read_value(cur, cur.u32(), max_array_items, path, key)
        if stop_after_architecture and key == "general.architecture":
            return GGUFInfo(path, version, metadata, (), DEFAULT_ALIGNMENT, 0, file_size)
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise CorruptGGUFError(f"{path.name} is damaged: its alignment ({alignment}) is not a power of two.")
    tensors: list[TensorInfo] = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.u32()
        if n_dims > MAX_DIMS:
            raise CorruptGGUFError(f"{path.name} is damaged: tensor {name} claims {n_dims} dimensions.")
        shape = tuple(cur.u64() for _ in range(n_dims))
        ggml_type, offset = cur.u32(), cur.u64()
        if offset % alignment:
            raise CorruptGGUFError(f"{path.name} is damaged: tensor {name} is not aligned.")
        tensors.append(TensorInfo(name, shape, ggml_type, offset, _tensor_bytes(path, name, shape, ggml_type)))
    data_offset = -(-cur.pos // alignment) * alignment if tensors else cur.pos  # no data, so no padding needed
    return GGUFInfo(path, version, metadata, tuple(tensors), alignment, data_offset, file_size)


def _read(path: Path, max_array_items: int, stop_after_architecture: bool) -> GGUFInfo:
    try:
        with open_regular(path) as f:  # not a device or a FIFO: /dev/zero would be read forever
            file_size = os.fstat(f.fileno()).st_size
            if file_size < len(GGUF_MAGIC):
                if GGUF_MAGIC.startswith(f.read(len(GGUF_MAGIC))) and file_size:
                    raise TruncatedGGUFError(f"{path.name} is truncated: it holds only {file_size} bytes.")
                raise NotGGUFError(
                    f"{path.name} is not a GGUF model file (it is {'empty' if not file_size else 'tiny'})."
                )
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
                return _parse(_Cursor(buffer), path, file_size, max_array_items, stop_after_architecture)
    except _EndOfDataError:
        raise TruncatedGGUFError(
            f"{path.name} is truncated or damaged: the file ends inside its header (it is {_size_text(file_size)})."
        ) from None
    except FileNotFoundError:
        raise GGUFError(f"No model file at {path}.") from None
    except IsADirectoryError:
        raise GGUFError(f"{path} is a folder, not a model file.") from None
    except NotRegularFileError as exc:
        raise GGUFError(f"{exc}: choose a GGUF model file.") from None
    except OSError as exc:
        raise GGUFError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def read_gguf(path: Path, *, require_complete: bool = True, max_array_items: int = 256) -> GGUFInfo:
    """Read the header of `path`; with `require_complete`, a file too short for its tensors raises.

    Metadata arrays longer than `max_array_items` (the vocabulary, merges) are kept as SkippedArray.
    """
    info = _read(Path(path), max_array_items, stop_after_architecture=False)
    if require_complete and info.missing_bytes > ABSURD_SIZE:
        raise TruncatedGGUFError(
            f"{info.path.name} is damaged or truncated: its header describes {_size_text(info.expected_file_size)} "
            "of weights, more than any model has."
        )
    if require_complete and not info.is_complete:
        raise TruncatedGGUFError(
            f"{info.path.name} is incomplete: it holds {_size_text(info.file_size)} of "
            f"{_size_text(info.expected_file_size)}, {_size_text(info.missing_bytes)} missing "
            "(an interrupted download?). Download it again."
        )
    return info


def read_architecture(path: Path) -> str | None:
    """`general.architecture`, reading only as far as that key (usually the first); raises like read_gguf."""
    return _read(Path(path), max_array_items=0, stop_after_architecture=True).architecture
