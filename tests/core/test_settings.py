"""App settings and per-conversation settings survive a restart; damage costs only the damaged field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gptoss_desktop.core.conversation_settings import RECOMMENDED_SAMPLING, ConversationSettings
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.remote.profile import ServerProfile
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.core.settings import Settings, load_settings, save_settings


def test_settings_survive_a_new_load_of_the_same_home() -> None:
    chosen = Settings(model_path="/m/gpt-oss.gguf", effort="high", theme="dark", font_size=14, show_reasoning=False)
    save_settings(app_paths().settings_file, chosen)
    # A new app start on the same home finds the same file.
    assert load_settings(app_paths().settings_file) == chosen


def test_defaults() -> None:
    assert Settings() == Settings(model_path=None, effort="medium", theme="system", font_size=None, show_reasoning=True)


def test_missing_or_unreadable_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.json") == Settings()
    for text in ("{not json", "[1, 2]", '"dark"', "null", ""):
        (tmp_path / "s.json").write_text(text, encoding="utf-8")
        assert load_settings(tmp_path / "s.json") == Settings()
    (tmp_path / "bytes.json").write_bytes(b"\xff\xfe{")
    assert load_settings(tmp_path / "bytes.json") == Settings()


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("model_path", 3),
        ("effort", "extreme"),
        ("theme", "solarized"),
        ("theme", None),
        ("font_size", 7),
        ("font_size", 33),
        ("font_size", 12.5),
        ("font_size", True),
        ("font_size", "12"),
        ("show_reasoning", "yes"),
        ("show_reasoning", 1),
        ("python_interpreter", ""),
        ("python_interpreter", ["/usr/bin/python3"]),
    ],
)
def test_a_damaged_field_falls_back_alone(tmp_path: Path, field: str, bad: object) -> None:
    good = {"model_path": "/m.gguf", "effort": "low", "theme": "light", "font_size": 20, "show_reasoning": False}
    good["python_interpreter"] = "/opt/py/bin/python3"
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({**good, field: bad, "from_a_newer_version": 1}), encoding="utf-8")
    loaded = load_settings(path)
    assert getattr(loaded, field) == getattr(Settings(), field)
    assert {k: getattr(loaded, k) for k in good if k != field} == {k: v for k, v in good.items() if k != field}


def test_font_size_limits_are_inclusive() -> None:
    assert Settings(font_size=8).font_size == 8
    assert Settings(font_size=32).font_size == 32
    with pytest.raises(ValueError, match="font_size"):
        Settings(font_size=40)
    with pytest.raises(ValueError, match="theme"):
        Settings().with_changes(theme="blue")


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    save_settings(path, Settings(theme="dark"))
    save_settings(path, Settings(theme="light"))
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]
    assert load_settings(path).theme == "light"


def test_conversation_settings_json_round_trip() -> None:
    edited = ConversationSettings(
        "Réponds en français.\nSois bref.", "low", temperature=0.7, top_p=0.9, max_tokens=512, seed=42
    )
    assert ConversationSettings.from_json(edited.to_json()) == edited
    assert ConversationSettings.from_json(ConversationSettings().to_json()) == ConversationSettings()


def test_servers_are_remembered_without_their_keys(tmp_path: Path) -> None:
    team = ServerProfile("gpu-box:8000", model="gpt-oss-120b", context_size=131072)
    saved = Settings(servers=(team, ServerProfile("https://llm.example.org/v1")))
    save_settings(tmp_path / "s.json", saved)
    assert load_settings(tmp_path / "s.json") == saved
    assert "key" not in (tmp_path / "s.json").read_text().lower()
    (tmp_path / "s.json").write_text(json.dumps({"servers": [{"base_url": "ftp://x"}, 7, team.to_json()]}))
    assert load_settings(tmp_path / "s.json").servers == (team,)  # a damaged entry costs only itself


def test_a_conversation_remembers_its_server_and_the_consent_to_send_documents() -> None:
    team = ServerProfile("http://gpu-box:8000", model="gpt-oss-120b")
    on_server = ConversationSettings(effort="high", server=team, documents_to_server=team.base_url)
    again = ConversationSettings.from_json(on_server.to_json())
    assert again == on_server and again.documents_may_go_to_server
    moved = again.with_changes(server=ServerProfile("http://other:8000"))
    assert not moved.documents_may_go_to_server  # consent is for one server, not any
    assert ConversationSettings.from_json('{"server": {"base_url": 5}, "effort": "low"}') == ConversationSettings(
        effort="low"
    )


def test_recommended_sampling_is_openais() -> None:
    openai = SamplingParams(temperature=1.0, top_p=1.0, max_tokens=None, seed=None)
    assert openai == RECOMMENDED_SAMPLING
    assert ConversationSettings().sampling() == RECOMMENDED_SAMPLING


def test_sampling_carries_every_value() -> None:
    settings = ConversationSettings(
        temperature=0.3, top_p=0.5, max_tokens=100, seed=7, top_k=20, min_p=0.1, repeat_penalty=1.2
    )
    assert settings.sampling() == SamplingParams(
        temperature=0.3, top_p=0.5, max_tokens=100, seed=7, top_k=20, min_p=0.1, repeat_penalty=1.2
    )


def test_reset_sampling_keeps_instructions_and_effort() -> None:
    edited = ConversationSettings("Be terse.", "high", temperature=0.2, top_p=0.4, max_tokens=9, seed=1)
    assert edited.reset_sampling() == ConversationSettings(instructions="Be terse.", effort="high")


@pytest.mark.parametrize("text", [None, "", "{", "[]", "3", "null", b"\xff", '{"instructions": {"nested": 1}}'])
def test_unreadable_conversation_settings_give_defaults(text: str | bytes | None) -> None:
    assert ConversationSettings.from_json(text) == ConversationSettings()


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("instructions", 5),
        ("effort", "max"),
        ("temperature", -0.1),
        ("temperature", 2.5),
        ("temperature", "hot"),
        ("temperature", True),
        ("top_p", 0),
        ("top_p", 1.5),
        ("max_tokens", 0),
        ("max_tokens", 1.5),
        ("max_tokens", 10**9),
        ("seed", -1),
        ("seed", 2**40),
        ("seed", "7"),
        ("top_k", -1),
        ("top_k", 1.5),
        ("min_p", 1.5),
        ("repeat_penalty", 0),
        ("python", "always"),
        ("python", True),
        ("python_without_network_isolation", "yes"),
    ],
)
def test_a_damaged_conversation_field_falls_back_alone(field: str, bad: object) -> None:
    good = {
        "python": "run",
        "python_without_network_isolation": True,
        "instructions": "Hi",
        "effort": "low",
        "temperature": 0.5,
        "top_p": 0.8,
        "max_tokens": 64,
        "seed": 3,
        "top_k": 20,
        "min_p": 0.1,
        "repeat_penalty": 1.1,
    }
    loaded = ConversationSettings.from_json(json.dumps({**good, field: bad, "unknown": True}))
    assert getattr(loaded, field) == getattr(ConversationSettings(), field)
    assert loaded.with_changes(**{field: good[field]}) == ConversationSettings(**good)  # type: ignore[arg-type]


def test_python_asks_first_unless_the_conversation_says_otherwise() -> None:
    assert ConversationSettings().python == "ask"
    assert ConversationSettings.from_json('{"effort": "low"}').python == "ask"  # stored before tools: asks too
    chosen = ConversationSettings(python="off", python_without_network_isolation=True)
    assert ConversationSettings.from_json(chosen.to_json()) == chosen


def test_not_a_number_temperature_is_refused() -> None:
    assert ConversationSettings.from_json('{"temperature": NaN, "top_p": Infinity}') == ConversationSettings()


def test_integer_sampling_values_are_read_as_floats() -> None:
    loaded = ConversationSettings.from_json('{"format": 2, "temperature": 0, "top_p": 1}')
    assert (loaded.temperature, loaded.top_p) == (0.0, 1.0)
    assert isinstance(loaded.temperature, float) and isinstance(loaded.top_p, float)


def test_settings_stored_before_per_model_defaults_follow_the_model() -> None:
    """Every conversation used to store gpt-oss's temperature 1.0 and top_p 1.0: not a person's choice."""
    old = ConversationSettings.from_json('{"temperature": 1.0, "top_p": 1.0, "effort": "high"}')
    assert (old.temperature, old.top_p, old.sampling_chosen) == (None, None, False)
    chosen = ConversationSettings.from_json('{"temperature": 0.3, "top_p": 1.0}')
    assert (chosen.temperature, chosen.top_p) == (0.3, None)
    kept = ConversationSettings.from_json(ConversationSettings(temperature=1.0, top_p=1.0).to_json())
    assert (kept.temperature, kept.top_p) == (1.0, 1.0)  # written now: a choice


def test_unset_sampling_comes_from_the_model() -> None:
    model = SamplingParams(temperature=0.8, top_p=0.95, top_k=40, min_p=0.05, repeat_penalty=1.1)
    settings = ConversationSettings(temperature=0.2, seed=5)
    assert settings.sampling(model) == SamplingParams(
        temperature=0.2, top_p=0.95, top_k=40, min_p=0.05, repeat_penalty=1.1, seed=5
    )
    assert ConversationSettings().sampling(model) == model
    assert settings.reset_sampling().sampling(model) == model
