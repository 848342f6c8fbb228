"""The tool loop on its own: calls answered, refused, approved or declined, stopped, limited.

The engine here is a script of what a model writes (the loop is what is tested; the real model
that calls tools is tested end to end elsewhere): each step yields the events a call or an answer
produces, and records the requests and results it was given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.engine import ChatRequest, LoraAdapter, ModelInfo
from gptoss_desktop.core.events import (
    AnswerDelta,
    Done,
    EngineEvent,
    MessageEnded,
    ReasoningDelta,
    Stats,
    ToolApproval,
    ToolCall,
    ToolResult,
)
from gptoss_desktop.core.harmony import PYTHON, Conversation, Message
from gptoss_desktop.core.tools.loop import Toolbox, run_turn


def calls_python(code: str) -> list[EngineEvent]:
    """What a model writes to call python: some reasoning, the call message, the call, Done(call)."""
    return [
        ReasoningDelta("Compute it. "),
        MessageEnded("analysis", None, "Compute it. "),
        MessageEnded("analysis", "python", code, "code"),
        ToolCall("python", "analysis", "code", code, declared=True),
        Done("call", Stats(prompt_tokens=50, completion_tokens=12, context_size=4096)),
    ]


def answers(text: str) -> list[EngineEvent]:
    return [
        ReasoningDelta("Got it. "),
        AnswerDelta(text),
        Done("return", Stats(prompt_tokens=80, completion_tokens=5, context_size=4096)),
    ]


@dataclass
class ScriptedEngine:
    """A ChatEngine whose steps are given in advance; `continues` makes it continue from its own tokens."""

    steps: list[list[EngineEvent]]
    requests: list[ChatRequest] = field(default_factory=list)
    results: list[Message] = field(default_factory=list)

    info = ModelInfo(Path("scripted.gguf"), "scripted", "gpt-oss", is_harmony=True, context_size=4096)

    def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
        self.requests.append(request)
        yield from self.steps.pop(0)

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        return 0

    def count_text_tokens(self, text: str) -> int:
        return 0

    def close(self) -> None:
        pass


class ContinuingEngine(ScriptedEngine):
    def continue_after_call(
        self, results: Sequence[Message], request: ChatRequest, cancel: CancelFlag | None = None
    ) -> Iterator[EngineEvent]:
        self.results += results
        yield from self.steps.pop(0)


@dataclass
class Calculator:
    """A python tool that evaluates the code's arithmetic (a stand-in for the sandbox, which has its own tests)."""

    ran: list[str] = field(default_factory=list)

    def run(self, call: ToolCall, cancel: CancelFlag) -> ToolResult:
        self.ran.append(call.arguments)
        value = str(eval(call.arguments.removeprefix("print(").removesuffix(")")))
        return ToolResult(call.recipient, "Ran Python · 0.1 s", value, value + "\n", seconds=0.1)


def request() -> ChatRequest:
    return ChatRequest(Conversation((Message("user", "What is 123 * 457?"),), date="2026-12-04"))


def python_box(calculator: Calculator, **options: object) -> Toolbox:
    return Toolbox(declarations=(PYTHON,), tools={"python": calculator}, **options)  # type: ignore[arg-type]


def test_a_call_is_answered_and_the_model_goes_on_from_its_own_tokens() -> None:
    engine = ContinuingEngine([calls_python("print(123 * 457)"), answers("56211")])
    calculator = Calculator()
    events = list(run_turn(engine, request(), python_box(calculator), CancelFlag()))

    assert calculator.ran == ["print(123 * 457)"]
    assert engine.requests[0].conversation.tools == (PYTHON,)  # declared in the system message
    assert engine.results == [Message("tool", "56211\n", channel="analysis", recipient="assistant", name="python")]
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "ReasoningDelta", "MessageEnded", "MessageEnded", "ToolCall", "ToolResult", "ReasoningDelta", "AnswerDelta",
        "Done",
    ]  # fmt: skip
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "return"
    assert (done.stats.tool_calls, done.stats.completion_tokens, done.stats.prompt_tokens) == (1, 17, 80)


def test_an_engine_that_cannot_continue_gets_the_whole_turn_again() -> None:
    engine = ScriptedEngine([calls_python("print(6 * 7)"), answers("42")])
    list(run_turn(engine, request(), python_box(Calculator()), CancelFlag()))
    again = engine.requests[1].conversation.messages
    assert again[1:] == (
        Message("assistant", "Compute it. ", channel="analysis"),
        Message("assistant", "print(6 * 7)", channel="analysis", recipient="python", content_type="code"),
        Message("tool", "42\n", channel="analysis", recipient="assistant", name="python"),
    )


def test_a_call_to_an_undeclared_tool_is_answered_with_an_error_and_nothing_runs() -> None:
    stray = [ToolCall("functions.delete_all", "commentary", "json", "{}", declared=False), Done("call", Stats())]
    engine = ContinuingEngine([stray, answers("Sorry.")])
    calculator = Calculator()
    events = list(run_turn(engine, request(), python_box(calculator), CancelFlag()))
    result = next(e for e in events if isinstance(e, ToolResult))
    assert calculator.ran == [] and result.status == "refused"
    assert engine.results[0].content == "No such tool: functions.delete_all. Use only the tools declared."


def test_the_step_limit_tells_the_model_to_answer_then_ends_the_turn() -> None:
    engine = ContinuingEngine([calls_python(f"print({n})") for n in range(4)])
    events = list(run_turn(engine, request(), python_box(Calculator(), step_limit=2), CancelFlag()))
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [r.status for r in results] == ["done", "done", "refused"]
    assert "used its 2 tool calls" in results[-1].model_text
    assert isinstance(events[-1], Done) and events[-1].stop_reason == "tool_limit"


def test_ask_first_waits_for_run_or_skip() -> None:
    for run, expected in ((True, "56211\n"), (False, "The person declined to run this.")):
        engine = ContinuingEngine([calls_python("print(123 * 457)"), answers("done")])
        calculator = Calculator()
        turn = run_turn(engine, request(), python_box(calculator, ask=frozenset({"python"})), CancelFlag())
        for event in turn:
            if isinstance(event, ToolApproval):
                assert event.call.arguments == "print(123 * 457)" and calculator.ran == []
                threading.Thread(target=event.decide, args=(run,)).start()  # the person clicks, on another thread
        assert engine.results[0].content == expected and bool(calculator.ran) == run


def test_stop_while_waiting_for_approval_ends_the_turn() -> None:
    engine = ContinuingEngine([calls_python("print(1)"), answers("never")])
    cancel = CancelFlag()
    events: list[EngineEvent] = []
    for event in run_turn(engine, request(), python_box(Calculator(), ask=frozenset({"python"})), cancel):
        events.append(event)
        if isinstance(event, ToolApproval):
            threading.Thread(target=cancel.set).start()
    assert [e.status for e in events if isinstance(e, ToolResult)] == ["stopped"]
    assert isinstance(events[-1], Done) and events[-1].stop_reason == "cancelled"


def test_a_tool_that_fails_is_the_models_to_read() -> None:
    class Broken:
        def run(self, call: ToolCall, cancel: CancelFlag) -> ToolResult:
            raise OSError("disk on fire")

    engine = ContinuingEngine([calls_python("print(1)"), answers("It failed.")])
    toolbox = Toolbox(declarations=(PYTHON,), tools={"python": Broken()})
    events = list(run_turn(engine, request(), toolbox, CancelFlag()))
    assert engine.results[0].content == "The tool failed: disk on fire"
    assert isinstance(events[-1], Done) and events[-1].stop_reason == "return"


def test_the_adapters_of_the_request_write_every_step_of_the_turn() -> None:
    adapters = (LoraAdapter(Path("french.lora.gguf"), 0.5),)
    engine = ScriptedEngine([calls_python("print(6 * 7)"), answers("42")])
    list(
        run_turn(engine, ChatRequest(request().conversation, adapters=adapters), python_box(Calculator()), CancelFlag())
    )
    assert [r.adapters for r in engine.requests] == [adapters, adapters]
