"""A local OpenAI-compatible API (chat completions, responses, models) over the one loaded model: Starlette
served by uvicorn, the model driven on its own thread through an EngineRunner."""
