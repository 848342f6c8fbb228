"""The ASGI application: routes, errors in OpenAI's shape, and the guard in front."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .chat import chat_completions
from .errors import ApiError
from .guard import LOOPBACK_NAMES, Guard
from .models import ServedModel, get_model, list_models
from .response_store import ResponseStore
from .responses import create_response, delete_response, get_response
from .runner import EngineRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiSettings:
    """Who may connect and what the server keeps."""

    host: str = "127.0.0.1"
    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Invalid URL ({request.method} {request.url.path})"
    else:
        message = (
            f"{request.method} is not allowed on {request.url.path}" if exc.status_code == 405 else str(exc.detail)
        )
    return ApiError(exc.status_code, message).response()


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("API request failed", exc_info=exc)
    return ApiError(500, f"The server failed: {exc}", type="server_error").response()


def create_app(runner: EngineRunner, settings: ApiSettings, responses: ResponseStore | None) -> Starlette:
    """The app over `runner`; `responses` keeps Responses API replies for previous_response_id (None: nowhere)."""
    routes = [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", get_model, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/responses", create_response, methods=["POST"]),
        Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
        Route("/v1/responses/{response_id}", delete_response, methods=["DELETE"]),
    ]
    hosts = None if settings.api_key else {*LOOPBACK_NAMES, settings.host}
    middleware = [Middleware(Guard, api_key=settings.api_key, allowed_hosts=hosts, origins=settings.cors_origins)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["authorization", "content-type"],
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
    )
    app.state.served = ServedModel(runner, time.time())
    app.state.responses = responses
    return app
