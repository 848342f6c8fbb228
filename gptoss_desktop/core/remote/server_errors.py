"""What went wrong with a server, said so a person knows what to do next.

Every failure of the server path ends up as one of these sentences: in a Failed
event while answering, or in ServerUnavailableError while connecting.
"""

from __future__ import annotations

import ssl

import httpx

from ..engine import ModelLoadError
from .bounded import parse_json

#: The most of a server's own error text quoted in a message.
QUOTE_LIMIT = 300


class ServerUnavailableError(ModelLoadError):
    """The server cannot be used (unreachable, refused the key, no such model); the message is for a person.

    A ModelLoadError, so whoever loads engines reports it the same way as a model file that cannot load.
    """


def server_said(body: str) -> str:
    """The server's own error text from an error body (OpenAI's `{"error": {"message": …}}` and variants)."""
    text = body.strip()
    try:
        parsed = parse_json(text)
    except ValueError:
        return _clip(text)
    return _clip(error_text(parsed) or text)


def error_text(parsed: object) -> str:
    """The message inside an error object, as OpenAI, vLLM, llama.cpp, FastAPI and Ollama shape it."""
    if isinstance(parsed, dict):
        for key in ("error", "detail", "message"):
            value = parsed.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, dict | list):
                inner = error_text(value)
                if inner:
                    return inner
    if isinstance(parsed, list) and parsed:
        return "; ".join(filter(None, (error_text(item) or _field_error(item) for item in parsed)))
    return ""


def redact(text: str, secret: str | None) -> str:
    """`text` with `secret` (an API key a server or an error may echo) replaced by a placeholder."""
    if not secret:
        return text
    for form in {secret, secret.strip()}:
        if len(form) >= 4:
            text = text.replace(form, "[API key]")
    return text


def sentence(text: str) -> str:
    """`text` with its first letter upper case (messages start with "the server at …")."""
    return text[:1].upper() + text[1:]


def status_message(status: int, body: str, server: str, *, has_key: bool) -> str:
    """A sentence for an HTTP error status from `server`."""
    return sentence(_status_message(status, body, server, has_key=has_key))


def moved_message(server: str, location: str) -> str:
    """A sentence for a redirect: not followed (a key and a conversation go only where they were sent)."""
    if not location:
        return sentence(f"{server} answered with a redirect to no address. Check the address: it usually ends in /v1")
    return sentence(
        f"{server} says the API has moved to {location}. Use that address instead (the app does not follow "
        "redirects, so a key and a conversation only ever go to the address you typed)"
    )


def _status_message(status: int, body: str, server: str, *, has_key: bool) -> str:
    said = server_said(body)
    detail = f' It said: "{said}"' if said else ""
    if status == 401:
        if has_key:
            return f"{server} refused the API key (401 Unauthorized). Check the key saved for this server.{detail}"
        return f"{server} asks for an API key (401 Unauthorized). Add the key for this server and try again.{detail}"
    if status == 403:
        return f"{server} does not allow this request (403 Forbidden): the key may lack access to this model.{detail}"
    if status == 404:
        return (
            f"{server} has nothing at that address (404 Not Found). Check the address: it usually ends in /v1.{detail}"
        )
    if status == 413:
        return f"{server} found the request too large (413). Shorten the message or the documents.{detail}"
    if status == 429:
        return f"{server} is busy or over its quota (429 Too Many Requests). Try again in a moment.{detail}"
    if 400 <= status < 500:
        return f"{server} rejected the request ({status}).{detail}"
    return f"{server} failed while answering ({status}).{detail}"


def transport_message(exc: httpx.TransportError, server: str, *, answering: bool) -> str:
    """A sentence for a network failure; `answering` when part of an answer had already arrived."""
    return sentence(_transport_message(exc, server, answering=answering))


def _transport_message(exc: httpx.TransportError, server: str, *, answering: bool) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{server} did not accept the connection in time. Is the address right and the server up?"
    if isinstance(exc, httpx.ReadTimeout):
        if answering:
            return f"{server} stopped sending mid-answer and timed out; the answer so far is kept but incomplete."
        return f"{server} accepted the request but sent nothing back in time: it may be busy or stuck."
    if isinstance(exc, httpx.ConnectError):
        cause = _root(exc)
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or "unknown reason"
            return (
                f"The certificate of {server} could not be verified ({reason}), so nothing was sent. "
                "If the server uses its own certificate authority, give its CA file."
            )
        if isinstance(cause, ssl.SSLError):
            return f"A secure connection to {server} could not be made ({cause.reason or cause}). Is it https?"
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
            return f"Could not connect to {server}: the connection was refused. Is the server running on that port?"
        return f"Could not connect to {server} ({exc}). Check the address and the network."
    if answering:
        return f"The connection to {server} broke off mid-answer; the answer so far is kept but incomplete."
    return f"The connection to {server} broke off before it answered ({exc or type(exc).__name__})."


def _root(exc: BaseException) -> BaseException:
    """The innermost cause: httpx wraps the ssl or socket error twice (httpcore only as its context)."""
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc


def _field_error(item: object) -> str:
    """FastAPI's validation errors: `{"loc": [...], "msg": "..."}`."""
    if isinstance(item, dict) and isinstance(item.get("msg"), str):
        place = ".".join(str(part) for part in item.get("loc", []) if part != "body")
        return f"{place}: {item['msg']}" if place else str(item["msg"])
    return ""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"
