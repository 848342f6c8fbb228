"""Documents a conversation holds: extraction, chunking, the search index, and how passages reach the prompt."""
