"""The command line as a hostile or careless person runs it: closed pipes, odd arguments, odd text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.hostile import assert_clean_failure, run_cli


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_closed_output_pipe_ends_the_chat_quietly(mode: list[str], trained_model: Path, tmp_path: Path) -> None:
    """`chat ... | head -1`: the reader goes away after one line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path / "home"), "chat", *mode,
         "--model", str(trained_model), "--seed", "1", "hi"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141, stderr  # 128 + SIGPIPE, as a shell reports a closed pipe
    assert "Traceback" not in stderr


@pytest.fixture
def saved_conversation(tmp_path: Path) -> Path:
    from gptoss_desktop.core.history.store import Store

    home = tmp_path / "home"
    store = Store(home / "data" / "conversations.db")
    try:
        store.add_message(store.create_conversation("Lakes"), "user", "A haiku about lakes")
    finally:
        store.close()
    return home


def test_export_does_not_replace_a_symlink_or_write_through_it(saved_conversation: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.md"
    kept.write_text("kept")
    link = tmp_path / "out.md"
    link.symlink_to(kept)
    result = run_cli("export", "1", "-o", str(link), home=saved_conversation)
    assert_clean_failure(result, says="is a symbolic link")
    assert link.is_symlink() and kept.read_text() == "kept"


def test_export_does_not_overwrite_a_read_only_file(saved_conversation: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_text("kept")
    target.chmod(0o444)
    assert_clean_failure(run_cli("export", "1", "-o", str(target), home=saved_conversation), says="is read-only")
    assert target.read_text() == "kept"


def test_export_into_a_fifo_neither_hangs_nor_replaces_it(saved_conversation: Path, tmp_path: Path) -> None:
    import os
    import stat

    fifo = tmp_path / "out.md"
    os.mkfifo(fifo)
    result = run_cli("export", "1", "-o", str(fifo), home=saved_conversation)
    assert_clean_failure(result, says="is a pipe (FIFO), not a file that can be replaced")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize(
    "args",
    [["a" * 30_000], ["." * 60_000], ["--instructions", "x" * 50_000, "hi"]],
    ids=["letters", "dots", "instructions"],
)
def test_a_long_run_of_one_character_gets_a_message_not_a_crash(
    args: list[str], trained_model: Path, tmp_path: Path
) -> None:
    result = run_cli("chat", "--model", str(trained_model), "--max-tokens", "4", *args, home=tmp_path / "home")
    assert_clean_failure(result, says="but the context holds")


def test_documents_with_a_long_run_are_embedded_and_answered(
    trained_model: Path, minilm_model: Path, tmp_path: Path
) -> None:
    document = tmp_path / "runs.txt"
    document.write_text("The tide is high at noon.\n\n" + "z" * 5_000 + "\n")
    result = run_cli(
        "chat", "--model", str(trained_model), "--doc", str(document), "--embedding-model", str(minilm_model),
        "--max-tokens", "4", "--seed", "1", "z" * 2_000, home=tmp_path / "home",
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert "searched by meaning" in result.stderr, result.stderr


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_escape_sequences_from_a_server_never_reach_the_terminal(mode: list[str], tmp_path: Path) -> None:
    """A clipboard write (OSC 52), a title change and a screen clear in the answer, the reasoning and the
    model's name."""
    from tests.fixtures import hostile_server as attacks

    with attacks.HostileServer(chat=attacks.escapes, models=attacks.escapes_models) as server:
        result = run_cli("chat", *mode, "--server", server.url, "hi", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "answer" in result.stdout and "think" in result.stdout
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in result.stdout + result.stderr


def test_a_binary_title_is_listed_without_control_characters(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    from gptoss_desktop.core.history.store import Store

    home = tmp_path / "home"
    store = Store(home / "data" / "conversations.db")
    try:
        store.create_conversation("placeholder")
    finally:
        store.close()
    with closing(sqlite3.connect(home / "data" / "conversations.db")) as db, db:  # bytes no UTF-8 decoder takes
        db.execute("UPDATE conversations SET title = CAST(? AS TEXT)", (b"\x1b]0;pwned\x07\x00\xc2\x9b2J title \xff",))
    result = run_cli("export", "--list", home=home)
    assert result.returncode == 0, result.stderr
    assert "title" in result.stdout
    assert not any(c in result.stdout for c in "\x1b\x07\x00\x9b")


def test_harmony_parse_of_bytes_that_are_not_utf8_is_parsed_not_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path), "harmony", "parse"],
        input=b"\xff\xfe<|channel|>final<|message|>caf\xe9", capture_output=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[" * 100_000, "JSON nested over 200 levels deep"),
        ('{"messages": [{"role": "user", "content": "hi"}], "instructions": 42}', '"instructions" must be a string'),
        ('{"messages": [{"role": "user", "content": "\\ud800"}]}', "not valid Unicode"),
        ('{"messages": [], "effort": 3}', '"effort" must be a string'),
    ],
    ids=["deep", "instructions-number", "lone-surrogate", "effort-number"],
)
def test_harmony_render_of_a_hostile_file_says_why(content: str, says: str, tmp_path: Path) -> None:
    conversation = tmp_path / "c.json"
    conversation.write_text(content)
    result = run_cli("harmony", "render", str(conversation), home=tmp_path / "home")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert says in result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["export", "99999999999999999999"], "is not a conversation id"),
        (["chat", "--model", "M", "--context", "50", "hi"], "the context must be 256 to"),
        (["chat", "--model", "M", "--context", "-1", "hi"], "the context must be 256 to"),
        (["chat", "--model", "M", "--context", "100000000", "hi"], "the context must be 256 to"),
    ],
)
def test_out_of_range_arguments_are_refused_by_name(args: list[str], says: str, tmp_path: Path) -> None:
    result = run_cli(*args, home=tmp_path / "home")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert says in result.stderr


def test_a_context_beyond_what_the_model_was_trained_for_is_refused_before_loading(
    trained_model: Path, tmp_path: Path
) -> None:
    result = run_cli("chat", "--model", str(trained_model), "--context", "100000", "hi", home=tmp_path / "home")
    assert_clean_failure(result, says="was trained for a context of 4,096 tokens; 100,000 is more than it can use")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_temperature_that_is_not_a_number_is_refused(value: str, trained_model: Path, tmp_path: Path) -> None:
    result = run_cli("chat", "--model", str(trained_model), "--temperature", value, "hi", home=tmp_path / "home")
    assert_clean_failure(result, says="temperature must be a number")


def test_a_home_under_an_unknown_user_is_refused_by_name(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", "~nouser-gptoss/x", "export", "--list"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--home ~nouser-gptoss/x" in result.stderr


def test_export_of_an_id_too_large_for_sqlite_with_a_database(saved_conversation: Path) -> None:
    result = run_cli("export", "99999999999999999999", home=saved_conversation)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_ctrl_c_while_a_server_is_asked_ends_the_chat_quietly(tmp_path: Path) -> None:
    import signal

    from tests.fixtures import hostile_server as attacks

    with attacks.HostileServer(models=attacks.slowloris_models) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path / "home"), "chat",
             "--server", server.url, "hi"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert server.arrived.wait(60)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_a_terminated_document_chat_leaves_no_copy_of_the_documents(how: str, tiny_model: Path, tmp_path: Path) -> None:
    import os
    import signal

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    document = tmp_path / "secret.txt"
    document.write_text("The vault code is 4711.\n" * 200)
    process = subprocess.Popen(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path / "home"), "chat", "--model", str(tiny_model),
         "--doc", str(document), "What is the code?"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temporary)},
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline()  # the answer has begun: the documents are indexed in a temporary database
    assert list(temporary.glob("gptoss-documents-*/documents.db"))
    process.send_signal(getattr(signal, how))
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + getattr(signal, how), err
    assert "Traceback" not in err
    assert list(temporary.iterdir()) == []


def test_copies_left_by_a_killed_run_are_removed_by_the_next(trained_model: Path, tmp_path: Path) -> None:
    import os

    temporary = tmp_path / "tmp"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = temporary / f"gptoss-documents-{int(dead.stdout)}-abc"
    abandoned.mkdir(parents=True)
    (abandoned / "documents.db").write_text("what kill -9 left")
    document = tmp_path / "notes.txt"
    document.write_text("High water is at noon.\n")
    result = subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path / "home"), "chat", "--model",
         str(trained_model), "--doc", str(document), "--max-tokens", "2", "When?"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(temporary)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert list(temporary.iterdir()) == []
