"""API keys live in the system keyring, per server, never in the app's files.

The keyring is what lies outside the app, so the tests choose its backend: a small
in-memory keyring (every test gets one: tests/conftest.py), and keyring's `fail` backend
for a system that has none.
"""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.remote.api_keys import (
    SERVICE,
    KeyringUnavailableError,
    delete_api_key,
    get_api_key,
    set_api_key,
)
from gptoss_desktop.core.settings import Settings, load_settings, save_settings
from tests.fixtures.memory_keyring import MemoryKeyring


def test_a_key_is_saved_read_and_forgotten_per_server(memory_keyring: MemoryKeyring) -> None:
    set_api_key("http://gpu-box:8000/v1", "sk-one")
    set_api_key("https://api.example.org/v1", "sk-two")
    assert get_api_key("gpu-box:8000") == "sk-one"  # the same server however it is typed
    assert get_api_key("http://GPU-box:8000/") == "sk-one"
    assert get_api_key("https://api.example.org") == "sk-two"
    assert memory_keyring.passwords == {
        (SERVICE, "http://gpu-box:8000/v1"): "sk-one",
        (SERVICE, "https://api.example.org/v1"): "sk-two",
    }
    assert delete_api_key("http://gpu-box:8000/v1") is True
    assert delete_api_key("http://gpu-box:8000/v1") is False
    assert get_api_key("http://gpu-box:8000/v1") is None


def test_no_key_reaches_the_apps_files(memory_keyring: MemoryKeyring, app_home: Path) -> None:
    settings_file = app_paths().settings_file
    save_settings(settings_file, Settings())
    set_api_key("http://gpu-box:8000/v1", "sk-very-secret-value")
    save_settings(settings_file, load_settings(settings_file))
    written = [p for p in app_home.rglob("*") if p.is_file()]
    assert written, "settings were saved somewhere under the app's home"
    assert not any(b"sk-very-secret-value" in p.read_bytes() for p in written)


def test_an_empty_key_is_refused(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ValueError, match="cannot be empty"):
        set_api_key("http://gpu-box:8000/v1", "  ")
    assert memory_keyring.passwords == {}


def test_no_keyring_on_the_system_is_said_plainly() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        with pytest.raises(KeyringUnavailableError, match="nothing was written in plain text"):
            set_api_key("http://gpu-box:8000/v1", "sk-one")
        with pytest.raises(KeyringUnavailableError):
            get_api_key("http://gpu-box:8000/v1")
    finally:
        keyring.set_keyring(previous)


def test_a_remembered_server_holds_no_key_and_connects_with_the_keyrings(memory_keyring: MemoryKeyring) -> None:
    from gptoss_desktop.core.remote.connect import open_engine
    from gptoss_desktop.core.remote.profile import ServerProfile
    from tests.fixtures.sse_server import ScriptedServer

    with ScriptedServer(api_key="sk-kept") as server:
        profile = ServerProfile(server.url.removesuffix("/v1"), model="gpt-oss-20b")
        stored = profile.to_json()
        assert stored == {"base_url": server.url, "model": "gpt-oss-20b"}
        set_api_key(server.url, "sk-kept")
        again = ServerProfile.from_json(stored)
        assert again == profile
        engine = open_engine(again)
        engine.close()
    assert server.authorizations[-1] == "Bearer sk-kept"
    assert ServerProfile.from_json({"base_url": "ftp://x"}) is None
    assert ServerProfile.from_json(None) is None
