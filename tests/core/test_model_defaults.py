"""Each model starts from its own sampling and shows a name people know: gpt-oss from OpenAI's advice,
other models from their GGUF or chat defaults, checked on real files loaded by llama.cpp."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.local.model_name import readable_model_name
from gptoss_desktop.core.sampling import CHAT_SAMPLING, GPT_OSS_SAMPLING, SamplingParams, model_sampling


def with_metadata(source: Path, target: Path, values: dict[str, float | int]) -> Path:
    """A copy of the GGUF `source` with extra metadata, as a converter writes `general.sampling.*`."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    reader = gguf.GGUFReader(source, "r")
    arch = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    assert arch is not None
    writer = gguf.GGUFWriter(target, arch=arch.contents(), endianess=reader.endianess)
    kinds = {int: gguf.GGUFValueType.INT32, float: gguf.GGUFValueType.FLOAT32}
    metadata = {key: MetadataDetails(kinds[type(value)], value) for key, value in values.items()}
    copy_with_new_metadata(reader, writer, metadata, [])
    return target


def test_gpt_oss_starts_from_openais_recommendation(trained_model: Path) -> None:
    engine = LocalEngine(trained_model, context_size=512)
    engine.close()
    assert engine.info.sampling == GPT_OSS_SAMPLING == SamplingParams(temperature=1.0, top_p=1.0)
    assert engine.info.name == "gpt-oss-tiny-harmony"


def test_another_model_without_advice_gets_chat_defaults_and_its_published_name(smollm2_model: Path) -> None:
    engine = LocalEngine(smollm2_model, context_size=512)
    engine.close()
    assert engine.info.sampling == CHAT_SAMPLING
    assert (CHAT_SAMPLING.temperature, CHAT_SAMPLING.top_k, CHAT_SAMPLING.top_p) == (0.8, 40, 0.95)
    # Its general.name is "Smollm2 135M 8k Lc100K Mix1 Ep2": the file's own name reads better.
    assert engine.info.name == "SmolLM2-135M-Instruct"


def test_a_model_whose_file_recommends_sampling_gets_it(smollm2_model: Path, tmp_path: Path) -> None:
    advised = {"general.sampling.temp": 0.2, "general.sampling.top_p": 0.9, "general.sampling.top_k": 20}
    path = with_metadata(smollm2_model, tmp_path / "SmolLM2-advised-Q4_1.gguf", advised)
    engine = LocalEngine(path, context_size=512)
    engine.close()
    assert engine.info.sampling.temperature == pytest.approx(0.2)
    assert engine.info.sampling.top_p == pytest.approx(0.9)
    assert engine.info.sampling.top_k == 20
    assert engine.info.sampling.min_p == CHAT_SAMPLING.min_p  # not in the file: the chat default
    assert engine.info.name == "SmolLM2-advised"


@pytest.mark.parametrize(
    "metadata",
    [
        {"general.sampling.temp": "hot"},
        {"general.sampling.top_p": "0"},
        {"general.sampling.top_k": "2.5"},
        {"general.sampling.temp": "nan"},
    ],
)
def test_unusable_advice_is_ignored(metadata: dict[str, object]) -> None:
    assert model_sampling(metadata, is_gpt_oss=False) == CHAT_SAMPLING


def test_gpt_oss_ignores_other_advice() -> None:
    assert model_sampling({"general.sampling.temp": "0.3"}, is_gpt_oss=True) == GPT_OSS_SAMPLING


@pytest.mark.parametrize(
    ("file", "metadata", "shown"),
    [
        ("gpt-oss-20b-mxfp4.gguf", {"general.name": "Gpt Oss 20b"}, "gpt-oss-20b"),
        ("openai_gpt-oss-20b-MXFP4.gguf", {}, "openai_gpt-oss-20b"),
        ("gpt-oss-20b-Q4_K_M.gguf", {}, "gpt-oss-20b"),
        ("Llama-3.2-3B-Instruct-UD-Q6_K_XL.gguf", {}, "Llama-3.2-3B-Instruct"),
        ("sha256-" + "ab" * 32, {"general.name": "gpt-oss 20b"}, "gpt-oss 20b"),
        ("model.gguf", {"general.basename": "smollm2", "general.size_label": "135M"}, "smollm2 135M"),
    ],
)
def test_names_read_as_people_know_them(file: str, metadata: dict[str, object], shown: str) -> None:
    assert readable_model_name(metadata, Path("/models") / file) == shown
