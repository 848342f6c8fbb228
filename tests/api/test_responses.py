"""The Responses API through the official openai client: reasoning items, streaming events, and
previous_response_id kept in the app's history database."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import openai
import pytest

from tests.fixtures.api_server import Served


def test_a_response_has_its_reasoning_item_then_the_message(served: Served) -> None:
    response = served.client().responses.create(
        model=served.model, input="What is 12 + 7?", reasoning={"effort": "high"}, temperature=0
    )
    assert "Reasoning: high" in served.engine.prompts[-1]
    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning" and reasoning.content and "2 + 7 = 9" in reasoning.content[0].text
    assert response.output_text == "19"
    assert response.status == "completed"
    assert response.usage is not None and response.usage.output_tokens_details.reasoning_tokens > 0


def test_previous_response_id_goes_on_from_the_stored_conversation(served: Served) -> None:
    client = served.client()
    first = client.responses.create(
        model=served.model, input="What is 12 + 7?", instructions="Answer with digits.", temperature=0
    )
    second = client.responses.create(
        model=served.model, input="Add 3 to that.", previous_response_id=first.id, temperature=0
    )
    assert second.output_text == "22"
    assert second.previous_response_id == first.id
    prompt = served.engine.prompts[-1]
    assert (
        "<|start|>user<|message|>What is 12 + 7?<|end|><|start|>assistant<|channel|>final<|message|>19<|end|>" in prompt
    )
    assert "Answer with digits." not in prompt  # instructions do not carry over, as in OpenAI's API
    with closing(sqlite3.connect(served.database)) as db:
        stored = {row[0]: row[1] for row in db.execute("SELECT id, previous_id FROM api_responses")}
    assert stored[second.id] == first.id
    assert client.responses.retrieve(second.id).output_text == "22"


def test_a_streamed_response_is_assembled_by_the_client(served: Served) -> None:
    client = served.client()
    with client.responses.stream(model=served.model, input="What is 12 + 7?", temperature=0) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.reasoning_text.delta" in kinds and "response.output_text.delta" in kinds
    assert kinds.index("response.reasoning_text.done") < kinds.index("response.output_text.delta")
    assert final.output_text == "19"
    assert [item.type for item in final.output] == ["reasoning", "message"]
    # Stored as well: the stream can be continued.
    follow = client.responses.create(model=served.model, input="Add 3 to that.", previous_response_id=final.id)
    assert follow.output_text == "22"


def test_structured_output_in_a_response(served: Served) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    response = served.client().responses.create(
        model=served.model,
        input="What is 12 + 7?",
        text={"format": {"type": "json_schema", "name": "sum", "schema": schema}},
        temperature=0,
    )
    assert isinstance(json.loads(response.output_text)["answer"], int)
    assert response.output[0].type == "reasoning"


def test_an_unknown_previous_response_and_store_false(served: Served) -> None:
    client = served.client()
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=served.model, input="Add 3.", previous_response_id="resp_nothing")
    assert refused.value.code == "previous_response_not_found"
    unstored = client.responses.create(model=served.model, input="What is 12 + 7?", store=False, max_output_tokens=5)
    assert unstored.status == "incomplete" and unstored.incomplete_details is not None
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)


def test_input_items_and_delete(served: Served) -> None:
    client = served.client()
    response = client.responses.create(
        model=served.model,
        input=[
            {"role": "developer", "content": "Answer with digits."},
            {"role": "user", "content": [{"type": "input_text", "text": "What is 12 + 7?"}]},
        ],
        temperature=0,
    )
    assert "# Instructions\n\nAnswer with digits." in served.engine.prompts[-1]
    assert response.output_text == "19"
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
