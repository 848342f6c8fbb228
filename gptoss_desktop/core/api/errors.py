"""Errors as OpenAI's API returns them: an `error` object with message, type, param and code, and the status."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    """A request the server refuses; `message` is meant for the person reading the client's output."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # OpenAI's field name
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body: {"error": {...}}."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        """The HTTP response carrying it."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def unsupported(param: str, why: str) -> ApiError:
    """A parameter this server does not offer (with the value given)."""
    return ApiError(400, f"{param}: {why}", param=param, code="unsupported_parameter")


def invalid(param: str, why: str) -> ApiError:
    """A parameter with a value of the wrong type or range."""
    return ApiError(400, f"Invalid value for '{param}': {why}", param=param, code="invalid_value")


def busy(waiting: int) -> ApiError:
    """The queue is full: try again shortly."""
    return ApiError(
        429,
        f"The model is busy: {waiting} requests are already waiting. Try again shortly.",
        type="rate_limit_error",
        code="rate_limit_exceeded",
        headers={"Retry-After": "1"},
    )
