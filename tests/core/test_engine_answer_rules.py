"""What a request can ask of the answer alone: stop strings, and a grammar on the final channel only
(the API's structured output), on real llama.cpp with the trained tiny gpt-oss and SmolLM2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_cpp.llama_grammar import json_schema_to_gbnf

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, EngineEvent, Failed, ReasoningDelta, ToolCall
from gptoss_desktop.core.harmony import Conversation, Function, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.local.stop_text import StopText
from gptoss_desktop.core.sampling import SamplingParams

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}},
    "required": ["answer"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def engine(trained_model: Path) -> Iterator[LocalEngine]:
    engine = LocalEngine(trained_model, context_size=1024)
    yield engine
    engine.close()


def ask(engine: LocalEngine, **request: object) -> tuple[str, str, Done]:
    conversation = Conversation((Message("user", "What is 12 + 7?"),), effort="low", date="2026-12-04")
    sampling = SamplingParams(temperature=0.0, max_tokens=200)
    events: list[EngineEvent] = list(engine.generate(ChatRequest(conversation, sampling, **request)))  # type: ignore[arg-type]
    done = events[-1]
    assert isinstance(done, Done)
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    return reasoning, answer, done


def test_without_rules_the_trained_model_reasons_then_answers(engine: LocalEngine) -> None:
    reasoning, answer, done = ask(engine)
    assert "ones 2 + 7 = 9" in reasoning
    assert answer == "19"
    assert done.stop_reason == "return"


def test_a_grammar_binds_the_answer_and_leaves_the_reasoning_free(engine: LocalEngine) -> None:
    reasoning, answer, done = ask(engine, answer_grammar=json_schema_to_gbnf(json.dumps(SCHEMA)))
    # The same reasoning as without a grammar: it was not constrained.
    assert reasoning == ask(engine)[0]
    value = json.loads(answer)
    assert set(value) == {"answer"} and isinstance(value["answer"], int)
    assert done.stats.reasoning_tokens > 0
    assert done.stop_reason in ("return", "call")  # end of generation, allowed once the JSON is complete


def test_a_grammar_on_a_model_without_harmony_binds_all_its_output(smollm2_model: Path) -> None:
    engine = LocalEngine(smollm2_model, context_size=1024)
    try:
        _, answer, done = ask(engine, answer_grammar=json_schema_to_gbnf(json.dumps(SCHEMA)))
    finally:
        engine.close()
    assert isinstance(json.loads(answer)["answer"], int)
    assert done.stop_reason == "eos"


def test_a_grammar_llama_cpp_cannot_parse_fails_the_request_instead_of_the_process(engine: LocalEngine) -> None:
    conversation = Conversation((Message("user", "What is 12 + 7?"),))
    events = list(engine.generate(ChatRequest(conversation, answer_grammar='root ::= ("a"')))
    assert events == [Failed("The answer's grammar is not valid GBNF (llama.cpp could not parse it).")]
    assert ask(engine)[1] == "19"  # and the engine still answers


@pytest.mark.parametrize(("stops", "answer"), [(("9",), "1"), (("1",), ""), (("xyz", "19"), ""), ((" ",), "19")])
def test_the_answer_ends_before_the_first_stop_string(engine: LocalEngine, stops: tuple[str, ...], answer: str) -> None:
    reasoning, text, done = ask(engine, stop=stops)
    assert text == answer
    assert done.stop_reason == ("return" if answer == "19" else "stop")
    assert "ones 2 + 7" in reasoning  # stop strings apply to the answer, not the reasoning ("1" is in it)


@pytest.mark.parametrize(
    ("pieces", "shown", "stopped", "held"),
    [
        (["Hel", "lo EN", "D there"], ["Hel", "lo ", ""], True, ""),
        (["a<", "|e", "x"], ["a", "", "<|ex"], False, ""),
        (["abc"], ["abc"], False, ""),
        (["xx", "EN", "DING"], ["xx", "", ""], True, ""),
        (["the E", "N"], ["the ", ""], False, "EN"),
    ],
)
def test_stop_text_holds_back_what_may_become_a_stop(
    pieces: list[str], shown: list[str], stopped: bool, held: str
) -> None:
    stop = StopText(["END", "<|end|>"])
    assert [stop.feed(piece) for piece in pieces] == shown
    assert stop.stopped is stopped
    assert stop.flush() == held  # the answer ended without its stop: what was held back is shown


WEATHER = Function(
    "get_weather",
    "Current weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"]},
)


def test_a_forced_call_comes_after_free_reasoning_with_arguments_that_match_their_schema(engine: LocalEngine) -> None:
    conversation = Conversation(
        (Message("user", "What is 12 + 7?"),), effort="low", date="2026-12-04", functions=(WEATHER,)
    )
    grammar = json_schema_to_gbnf(json.dumps(WEATHER.parameters))
    request = ChatRequest(
        conversation,
        SamplingParams(temperature=0.0, max_tokens=300),
        call_grammars=(("functions.get_weather", grammar),),
        forced_call="functions.get_weather",
    )
    events = list(engine.generate(request))
    # The functions in the developer message are new to the tiny model: it reasons about another sum, but freely.
    assert "The user asks for" in "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert not any(isinstance(e, AnswerDelta) for e in events)  # the answer the model began gave way to the call
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls) == 1 and calls[0].recipient == "functions.get_weather" and calls[0].declared
    assert isinstance(json.loads(calls[0].arguments)["city"], str)
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "call"
