"""Tools gpt-oss calls while it thinks: the loop that runs them, and the tools (no Qt)."""
