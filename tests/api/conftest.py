"""Servers shared by the API tests: the trained tiny gpt-oss, started once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.api_server import Served


@pytest.fixture(scope="module")
def served(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app's API over the trained tiny gpt-oss, on 127.0.0.1 and a free port."""
    server = Served(trained_model, tmp_path_factory.mktemp("api") / "conversations.db")
    yield server
    server.stop()
