"""Reading GGUF headers: real models, a 12 GB sparse file, and truncated, damaged or foreign files."""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Sequence
from pathlib import Path

import gguf
import numpy as np
import pytest

from gptoss_desktop.core.engine import ModelLoadError
from gptoss_desktop.core.local.gguf_file import (
    CorruptGGUFError,
    GGUFError,
    NotGGUFError,
    SkippedArray,
    TruncatedGGUFError,
    UnsupportedGGUFError,
    read_architecture,
    read_gguf,
)


def gguf_bytes(
    version: int = 3,
    kv: Sequence[tuple[str, int, bytes]] = (("general.architecture", 8, b"gpt-oss"),),
    tensors: Sequence[tuple[str, tuple[int, ...], int, int]] = (),
) -> bytes:
    """A GGUF header written by hand: kv is (key, value type, packed value); strings are packed here."""

    def string(s: bytes) -> bytes:
        return struct.pack("<Q", len(s)) + s

    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv))
    for key, value_type, value in kv:
        out += string(key.encode()) + struct.pack("<I", value_type) + (string(value) if value_type == 8 else value)
    for name, shape, ggml_type, offset in tensors:
        out += string(name.encode()) + struct.pack(f"<I{len(shape)}QIQ", len(shape), *shape, ggml_type, offset)
    return out + b"\0" * (-len(out) % 32)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_reads_the_tiny_gpt_oss(tiny_model: Path) -> None:
    info = read_gguf(tiny_model)
    assert info.architecture == "gpt-oss"
    assert info.version == 3
    assert info.get_int("gpt-oss.block_count") == 2
    assert info.get_int("gpt-oss.attention.sliding_window") == 32
    assert info.is_complete and info.expected_file_size == tiny_model.stat().st_size
    assert read_architecture(tiny_model) == "gpt-oss"


def test_tensor_table_agrees_with_the_gguf_package(tiny_model: Path) -> None:
    ours = read_gguf(tiny_model)
    theirs = gguf.GGUFReader(tiny_model)
    assert ours.data_offset == theirs.data_offset
    assert [(t.name, t.shape, t.ggml_type, t.n_bytes) for t in ours.tensors] == [
        (t.name, tuple(int(d) for d in t.shape), int(t.tensor_type), int(t.n_bytes)) for t in theirs.tensors
    ]
    assert [ours.data_offset + t.offset for t in ours.tensors] == [int(t.data_offset) for t in theirs.tensors]


def test_reads_a_real_llama_model(smollm2_model: Path) -> None:
    info = read_gguf(smollm2_model)
    assert info.architecture == "llama"
    assert info.get_int("llama.context_length") == 8192
    assert info.metadata["tokenizer.ggml.tokens"] == SkippedArray(item_type=8, length=49152)
    assert info.metadata["general.languages"] == ("en",)
    assert isinstance(info.metadata["tokenizer.chat_template"], str)
    assert len(info.tensors) == 272
    assert info.is_complete


def write_gpt_oss_20b_header(path: Path) -> Path:
    """A header shaped like gpt-oss-20b's (201k-token vocabulary, ~12 GB of tensors), the data left sparse."""
    writer = gguf.GGUFWriter(str(path), "gpt-oss")
    writer.add_block_count(24)
    writer.add_token_list([f"t{i}" for i in range(201088)])
    writer.add_tensor_info("token_embd.weight", (201088, 2880), np.dtype(np.float16), 201088 * 2880 * 2)
    for i in range(24):
        writer.add_tensor_info(f"blk.{i}.ffn_up_exps.weight", (32, 2880, 2208), np.dtype(np.float16), 406978560)
    writer.add_tensor_info("output.weight", (201088, 2880), np.dtype(np.float16), 201088 * 2880 * 2)
    writer.write_header_to_file(path)
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    os.truncate(path, read_gguf(path, require_complete=False).expected_file_size)
    return path


def test_a_12_gb_file_is_read_quickly_and_its_truncation_noticed(tmp_path: Path) -> None:
    path = write_gpt_oss_20b_header(tmp_path / "gpt-oss-20b.gguf")
    start = time.perf_counter()
    info = read_gguf(path)
    assert time.perf_counter() - start < 3.0  # ~0.1 s here; GGUFReader needs far longer for such a vocabulary
    assert info.file_size > 12e9 and info.is_complete
    assert info.metadata["tokenizer.ggml.tokens"] == SkippedArray(item_type=8, length=201088)

    os.truncate(path, 5_000_000_000)
    with pytest.raises(TruncatedGGUFError, match=r"incomplete: it holds 5\.0 GB of 12\.1 GB"):
        read_gguf(path)
    assert read_gguf(path, require_complete=False).missing_bytes == info.file_size - 5_000_000_000


def test_a_file_cut_inside_its_tensor_data_is_incomplete(tiny_model: Path, tmp_path: Path) -> None:
    size = tiny_model.stat().st_size
    cut = write(tmp_path / "cut.gguf", tiny_model.read_bytes()[: size - 1])
    with pytest.raises(TruncatedGGUFError, match=r"cut\.gguf is incomplete.*1 byte missing.*Download it again"):
        read_gguf(cut)
    assert read_architecture(cut) == "gpt-oss"  # the header is whole: it is still recognisable


@pytest.mark.parametrize("length", [3, 4, 10, 24, 60, 2000, 8000])
def test_a_file_cut_inside_its_header_is_truncated(tiny_model: Path, tmp_path: Path, length: int) -> None:
    cut = write(tmp_path / "cut.gguf", tiny_model.read_bytes()[:length])
    with pytest.raises(TruncatedGGUFError, match=r"cut\.gguf is truncated"):
        read_gguf(cut)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "it is empty"),
        (b"<!DOCTYPE html><html>Repository not found</html>", "does not start with the GGUF signature"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "does not start with the GGUF signature"),
        (b"ab", "it is tiny"),
    ],
)
def test_other_files_are_not_gguf(tmp_path: Path, content: bytes, says: str) -> None:
    path = write(tmp_path / "model.gguf", content)
    with pytest.raises(NotGGUFError, match=f"model.gguf is not a GGUF model file.*{says}"):
        read_gguf(path)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (gguf_bytes(version=1), "GGUF version 1, an old format"),
        (gguf_bytes(version=4), "GGUF version 4, which this version of the app does not understand"),
        (b"GGUF" + struct.pack(">I", 3) + b"\0" * 40, "big-endian"),
        (gguf_bytes(tensors=[("w", (32,), 99, 0)]), "ggml type 99"),
    ],
)
def test_unsupported_files_say_why(tmp_path: Path, data: bytes, says: str) -> None:
    with pytest.raises(UnsupportedGGUFError, match=says):
        read_gguf(write(tmp_path / "m.gguf", data))


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (gguf_bytes(kv=[("general.architecture", 13, b"")]), "unknown value type"),
        (gguf_bytes(kv=[("general.alignment", 4, struct.pack("<I", 24))]), "alignment"),
        (gguf_bytes(tensors=[("w", (1, 1, 1, 1, 1), 0, 0)]), "claims 5 dimensions"),
        (gguf_bytes(tensors=[("w", (33,), 8, 0)]), "shape"),
        (gguf_bytes(tensors=[("w", (4,), 0, 3)]), "not aligned"),
    ],
)
def test_damaged_headers_are_reported(tmp_path: Path, data: bytes, says: str) -> None:
    with pytest.raises(CorruptGGUFError, match=says):
        read_gguf(write(tmp_path / "m.gguf", data))


def test_absurd_counts_and_lengths_end_quickly_as_truncated(tmp_path: Path) -> None:
    huge = 2**62
    cases = [
        b"GGUF" + struct.pack("<IQQ", 3, 0, huge) + b"\0" * 100,  # 4.6e18 keys
        b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, huge) + b"k" * 100,  # a key of 4.6e18 bytes
        gguf_bytes(kv=[("tokens", 9, struct.pack("<IQ", 8, huge))]),  # a list of 4.6e18 strings
        gguf_bytes(kv=[("ids", 9, struct.pack("<IQ", 5, huge))]),  # a list of 4.6e18 integers
        gguf_bytes(tensors=[("w", (huge,), 0, 0)]),  # a tensor of 18 exabytes
    ]
    start = time.perf_counter()
    for i, data in enumerate(cases):
        with pytest.raises(TruncatedGGUFError):
            read_gguf(write(tmp_path / f"m{i}.gguf", data))
    assert time.perf_counter() - start < 1.0


def test_short_metadata_lists_are_kept(tmp_path: Path) -> None:
    kv = [
        ("general.architecture", 8, b"gpt-oss"),
        ("pattern", 9, struct.pack("<IQ3?", 7, 3, True, False, True)),
        ("names", 9, struct.pack("<IQ", 8, 2) + struct.pack("<Q", 1) + b"a" + struct.pack("<Q", 2) + b"bc"),
    ]
    info = read_gguf(write(tmp_path / "m.gguf", gguf_bytes(kv=kv)))
    assert info.metadata["pattern"] == (True, False, True)
    assert info.metadata["names"] == ("a", "bc")


def test_a_gguf_without_architecture_reads_as_none(tmp_path: Path) -> None:
    path = write(tmp_path / "m.gguf", gguf_bytes(kv=[("general.name", 8, b"x")]))
    assert read_architecture(path) is None
    assert read_gguf(path).name == "x"


def test_missing_files_and_folders(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="No model file at"):
        read_gguf(tmp_path / "nothing.gguf")
    with pytest.raises(GGUFError, match="is a folder"):
        read_gguf(tmp_path)


def test_errors_are_model_load_errors_for_the_ui() -> None:
    assert issubclass(GGUFError, ModelLoadError)
