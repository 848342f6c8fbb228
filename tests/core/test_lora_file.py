"""LoRA adapter headers: the committed adapter is read as llama.cpp will use it; wrong files get a reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gptoss_desktop.core.local.gguf_file import GGUFError, read_gguf
from gptoss_desktop.core.local.header_checks import check_header
from gptoss_desktop.core.local.lora_file import AdapterError, check_lora_matches, is_adapter_file, read_lora
from gptoss_desktop.core.models.discovery import check_model
from tests.fixtures.lora_gguf import FRENCH_ADAPTER, random_pairs, write_adapter
from tests.fixtures.tiny_gptoss import TinyConfig, build_vocab, tensor_shapes

ATTENTION = ("attn_q", "attn_k", "attn_v", "attn_output")
Shapes = dict[str, tuple[int, ...]]


@pytest.fixture(scope="module")
def trained_shapes(trained_model: Path) -> Shapes:
    """numpy shapes ([experts,] out, in) of the trained model's matrices, from its own header."""
    return {t.name: tuple(reversed(t.shape)) for t in read_gguf(trained_model).tensors}


def adapter_for(path: Path, shapes: Shapes, names: list[str], **options: str | None) -> Path:
    return write_adapter(path, random_pairs({n: shapes[n] for n in names}, rank=4), 8.0, **options)  # type: ignore[arg-type]


def test_the_committed_adapter_is_read_as_made(trained_model: Path) -> None:
    lora = read_lora(FRENCH_ADAPTER)
    assert (lora.name, lora.architecture, lora.alpha, lora.rank) == ("gpt-oss-tiny French capitals", "gpt-oss", 16, 8)
    assert lora.base_model == "gpt-oss-tiny-harmony"
    kinds = {name.split(".")[2] for name in lora.pairs}
    assert kinds == {*ATTENTION, "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}
    assert len(lora.pairs) == 3 * 7
    info = read_gguf(FRENCH_ADAPTER)
    assert lora.tensor_bytes == sum(t.n_bytes for t in info.tensors) > 0
    check_lora_matches(lora, read_gguf(trained_model))


def test_an_adapter_of_experts_must_have_as_many_experts(tmp_path: Path, trained_model: Path) -> None:
    shapes = {"blk.0.ffn_up_exps.weight": (2, 128, 128)}  # the model has 4 experts
    lora = read_lora(adapter_for(tmp_path / "two.gguf", shapes, list(shapes)))
    with pytest.raises(AdapterError, match=r"does not fit .*ffn_up_exps.weight is 128 x 128 x 4 there"):
        check_lora_matches(lora, read_gguf(trained_model))


def test_an_adapter_made_for_another_width_is_refused(tmp_path: Path, trained_model: Path) -> None:
    narrow = tensor_shapes(TinyConfig(), len(build_vocab()[0]))  # width 64; the trained model is 128
    path = adapter_for(tmp_path / "narrow.gguf", narrow, ["blk.0.attn_q.weight"], base_name="gpt-oss-tiny")
    with pytest.raises(AdapterError) as refused:
        check_lora_matches(read_lora(path), read_gguf(trained_model))
    assert str(refused.value) == (
        "narrow.gguf does not fit gpt-oss-tiny-harmony: blk.0.attn_q.weight is 128 x 128 there, the adapter "
        "expects 64 x 64 (it was made for gpt-oss-tiny)."
    )


def test_an_adapter_for_another_architecture_is_refused(
    tmp_path: Path, trained_model: Path, trained_shapes: Shapes
) -> None:
    path = adapter_for(tmp_path / "llama.gguf", trained_shapes, ["blk.0.attn_q.weight"], architecture="llama")
    with pytest.raises(AdapterError, match="was made for a llama model; gpt-oss-tiny-harmony is gpt-oss"):
        check_lora_matches(read_lora(path), read_gguf(trained_model))


def test_an_adapter_of_a_tensor_the_model_lacks_is_refused(tmp_path: Path, trained_model: Path) -> None:
    path = adapter_for(tmp_path / "deep.gguf", {"blk.7.attn_q.weight": (128, 128)}, ["blk.7.attn_q.weight"])
    with pytest.raises(AdapterError, match=r"changes blk\.7\.attn_q\.weight, which gpt-oss-tiny-harmony does not have"):
        check_lora_matches(read_lora(path), read_gguf(trained_model))


def test_an_adapter_of_a_vector_is_refused(tmp_path: Path, trained_model: Path) -> None:
    a, b = np.ones((4, 128), np.float32), np.ones((1, 4), np.float32)
    path = write_adapter(tmp_path / "bias.gguf", {"blk.0.attn_q.bias": (a, b)}, 8.0)
    with pytest.raises(AdapterError, match="a vector; LoRA can change only weight matrices"):
        check_lora_matches(read_lora(path), read_gguf(trained_model))


def test_a_model_is_not_an_adapter_and_an_adapter_is_not_a_model(trained_model: Path) -> None:
    with pytest.raises(AdapterError, match="is a model, not a LoRA adapter"):
        read_lora(trained_model)
    with pytest.raises(GGUFError, match="is a LoRA adapter, not a model"):
        check_header(read_gguf(FRENCH_ADAPTER))
    assert check_model(FRENCH_ADAPTER).problem == (
        "gpt-oss-tiny-french.lora.gguf is a LoRA adapter, not a model: apply it to the model it was made for."
    )


def test_a_file_without_the_adapter_type_is_not_taken_for_one(tmp_path: Path, trained_shapes: Shapes) -> None:
    path = adapter_for(tmp_path / "untyped.gguf", trained_shapes, ["blk.0.attn_q.weight"], general_type=None)
    with pytest.raises(AdapterError, match="is a model, not a LoRA adapter"):
        read_lora(path)


def test_an_activated_lora_is_refused(tmp_path: Path, trained_shapes: Shapes) -> None:
    path = write_adapter(
        tmp_path / "alora.gguf",
        random_pairs({"blk.0.attn_q.weight": trained_shapes["blk.0.attn_q.weight"]}, 4),
        8.0,
        extra={"adapter.alora.invocation_tokens": "x"},
    )
    with pytest.raises(AdapterError, match=r"activated LoRA \(aLoRA\)"):
        read_lora(path)


def test_a_half_without_its_other_half_is_damage(tmp_path: Path) -> None:
    import gguf

    writer = gguf.GGUFWriter(str(tmp_path / "half.gguf"), "gpt-oss")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.ones((4, 128), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(AdapterError, match=r"damaged: blk\.0\.attn_q\.weight has no lora_b beside its other half"):
        read_lora(tmp_path / "half.gguf")


def test_halves_of_different_ranks_are_damage(tmp_path: Path) -> None:
    a, b = np.ones((4, 128), np.float32), np.ones((128, 8), np.float32)
    path = write_adapter(tmp_path / "ranks.gguf", {"blk.0.attn_q.weight": (a, b)}, 8.0)
    with pytest.raises(AdapterError, match=r"the two halves of blk.0.attn_q.weight do not fit together"):
        read_lora(path)


def test_a_tensor_that_is_no_lora_half_is_refused(tmp_path: Path) -> None:
    import gguf

    writer = gguf.GGUFWriter(str(tmp_path / "odd.gguf"), "gpt-oss")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_tensor("blk.0.attn_q.weight", np.ones((128, 128), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(AdapterError, match=r"holds a tensor blk.0.attn_q.weight, which is not part of a LoRA"):
        read_lora(tmp_path / "odd.gguf")


def test_integer_matrices_are_refused(tmp_path: Path) -> None:
    a, b = np.ones((4, 128), np.int32), np.ones((128, 4), np.int32)
    path = write_adapter(tmp_path / "ints.gguf", {"blk.0.attn_q.weight": (a, b)}, 8.0)
    with pytest.raises(AdapterError, match="adapters must be F32, F16, BF16 or Q8_0"):
        read_lora(path)


def test_norm_vectors_some_tools_add_are_ignored(tmp_path: Path, trained_model: Path, trained_shapes: Shapes) -> None:
    import gguf

    writer = gguf.GGUFWriter(str(tmp_path / "norms.gguf"), "gpt-oss")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    ((a, b),) = random_pairs({"blk.0.attn_q.weight": trained_shapes["blk.0.attn_q.weight"]}, 4).values()
    writer.add_tensor("blk.0.attn_q.weight.lora_a", a)
    writer.add_tensor("blk.0.attn_q.weight.lora_b", b)
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(128, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    lora = read_lora(tmp_path / "norms.gguf")
    assert list(lora.pairs) == ["blk.0.attn_q.weight"]
    check_lora_matches(lora, read_gguf(trained_model))


def test_a_truncated_adapter_says_so(tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(FRENCH_ADAPTER.read_bytes()[:5000])
    with pytest.raises(AdapterError, match=r"cut\.gguf is incomplete"):
        read_lora(cut)


def test_not_a_gguf_at_all(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("my adapter, honestly\n" * 10)
    with pytest.raises(AdapterError, match=r"notes\.gguf is not a GGUF adapter file"):
        read_lora(text)
    with pytest.raises(AdapterError, match="No adapter file at"):
        read_lora(tmp_path / "missing.gguf")


def test_a_dropped_file_is_told_apart_by_its_header_alone(tmp_path: Path, trained_model: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(FRENCH_ADAPTER.read_bytes()[:5000])  # its weights are missing, its header says adapter
    notes = tmp_path / "notes.gguf"
    notes.write_text("my adapter, honestly\n")
    assert [is_adapter_file(p) for p in (FRENCH_ADAPTER, cut, trained_model, notes, tmp_path / "gone.gguf")] == [
        True,
        True,
        False,
        False,
        False,
    ]
