"""POST /v1/responses (and GET, DELETE by id): reasoning items, the message, streaming events, and
previous_response_id backed by the app's database.

The database is read and written on the event loop itself: a row is a few milliseconds, and a
worker thread per call would outlive the request (anyio keeps its threads for a while).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..events import Failed
from .chat import SSE_HEADERS, server_error
from .errors import ApiError
from .fields import parse_body, string
from .jobs import RunningJob, answer
from .models import ServedModel
from .response_items import ResponseBuilder
from .response_store import ResponseStore
from .responses_request import parse_response_call


def _store(request: Request) -> ResponseStore | None:
    store: ResponseStore | None = request.app.state.responses
    return store


async def create_response(request: Request) -> Response:
    served: ServedModel = request.app.state.served
    body = parse_body(await request.body())
    previous_id = string(body, "previous_response_id")
    previous = None
    if previous_id is not None:
        store = _store(request)
        previous = store.thread(previous_id) if store else None
        if previous is None:
            raise ApiError(
                400,
                f"Previous response with id '{previous_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
    call = parse_response_call(body, previous)
    model = served.check(call.model)
    job = RunningJob(served.runner, answer(call.request()))
    reply = ResponseBuilder(call, model.id)
    store = _store(request) if call.store else None
    async with job.watching(request):
        first = await job.next_batch()
        if not call.stream:
            events = first
            while not job.ended:
                events += await job.next_batch()
            for event in events:
                if isinstance(event, ApiError):
                    raise event
                if isinstance(event, Failed):
                    raise server_error(event)
                reply.feed(event)
            if reply.cancelled:
                return Response(status_code=499)  # the client left: nobody reads this
            _keep(store, reply)
            return JSONResponse(reply.response())
    refused = next((e for e in first if isinstance(e, ApiError)), None)
    if refused is not None:
        raise refused
    return StreamingResponse(_stream(reply, job, first, store), media_type="text/event-stream", headers=SSE_HEADERS)


def _keep(store: ResponseStore | None, reply: ResponseBuilder) -> None:
    """Store a finished reply (unless store=false) for previous_response_id and GET."""
    if store is not None and reply.done is not None and reply.failed is None and not reply.cancelled:
        store.save(reply.response(), reply.thread())


async def _stream(
    reply: ResponseBuilder, job: RunningJob, first: list[object], store: ResponseStore | None
) -> AsyncIterator[bytes]:
    try:
        started = reply.response()
        yield reply.event("response.created", response=started)
        yield reply.event("response.in_progress", response=started)
        events = first
        while True:
            for event in events:
                for chunk in reply.feed(event):
                    yield chunk
            if job.ended:
                break
            events = await job.next_batch()
        _keep(store, reply)
    finally:
        job.cancel()  # a client that disconnected: stop generating (no effect once it ended)


async def get_response(request: Request) -> Response:
    store = _store(request)
    response_id = request.path_params["response_id"]
    found = store.response(response_id) if store else None
    if found is None:
        raise ApiError(404, f"No response with id '{response_id}' was found.", code="not_found")
    return JSONResponse(found)


async def delete_response(request: Request) -> Response:
    store = _store(request)
    response_id = request.path_params["response_id"]
    deleted = store.delete(response_id) if store else False
    if not deleted:
        raise ApiError(404, f"No response with id '{response_id}' was found.", code="not_found")
    return JSONResponse({"id": response_id, "object": "response", "deleted": True})
