"""A cancel flag wakes what no flag check can reach: callbacks run once, on the thread that sets it."""

from __future__ import annotations

import threading

from gptoss_desktop.core.cancel import CancelFlag


def test_callbacks_run_once_when_set_and_not_after_being_forgotten() -> None:
    flag = CancelFlag()
    ran: list[str] = []
    flag.when_set(lambda: ran.append("kept"))
    forget = flag.when_set(lambda: ran.append("forgotten"))
    forget()
    assert ran == []
    flag.set()
    flag.set()
    assert ran == ["kept"] and flag.is_set()


def test_a_callback_given_after_the_flag_was_set_runs_at_once() -> None:
    flag = CancelFlag()
    flag.set()
    ran: list[int] = []
    flag.when_set(lambda: ran.append(1))()
    assert ran == [1]


def test_callbacks_run_on_the_thread_that_sets_the_flag() -> None:
    flag = CancelFlag()
    threads: list[str] = []
    flag.when_set(lambda: threads.append(threading.current_thread().name))
    setter = threading.Thread(target=flag.set, name="setter")
    setter.start()
    setter.join()
    assert threads == ["setter"]
