"""Chat with gpt-oss on an OpenAI-compatible server: the same typed events as the local engine."""
