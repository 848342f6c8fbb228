"""The model the server offers, by the name clients use for it, and GET /v1/models."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..engine import ModelInfo
from .errors import ApiError
from .runner import EngineRunner


def model_id(info: ModelInfo) -> str:
    """The name clients ask for: the GGUF file's name without `.gguf`, e.g. gpt-oss-20b-mxfp4."""
    return re.sub(r"\s+", "-", info.path.stem)


@dataclass(frozen=True)
class Offered:
    id: str
    info: ModelInfo


class ServedModel:
    """The runner, and the model it holds right now (the window may load another at any time)."""

    def __init__(self, runner: EngineRunner, started: float) -> None:
        self.runner = runner
        self.started = int(started)

    def current(self) -> Offered | None:
        info = self.runner.model
        return Offered(model_id(info), info) if info is not None else None

    def check(self, name: str) -> Offered:
        """The model a request names, or 404 (503 when none is loaded)."""
        offered = self.current()
        if offered is None:
            raise ApiError(503, "No model is loaded in the app.", type="server_error", code="model_not_loaded")
        if name != offered.id:
            raise ApiError(
                404,
                f"The model `{name}` does not exist; this server offers `{offered.id}`.",
                param="model",
                code="model_not_found",
            )
        return offered

    def card(self, offered: Offered) -> dict[str, object]:
        return {"id": offered.id, "object": "model", "created": self.started, "owned_by": "gptoss-desktop"}


async def list_models(request: Request) -> Response:
    served: ServedModel = request.app.state.served
    offered = served.current()
    return JSONResponse({"object": "list", "data": [served.card(offered)] if offered else []})


async def get_model(request: Request) -> Response:
    served: ServedModel = request.app.state.served
    offered = served.current()
    name = request.path_params["model"]
    if offered is None or name != offered.id:
        raise ApiError(404, f"The model `{name}` does not exist.", param="model", code="model_not_found")
    return JSONResponse(served.card(offered))
