"""This computer's engine: a GGUF run by llama.cpp, its vocabulary and prompts, and whether it fits in memory."""
