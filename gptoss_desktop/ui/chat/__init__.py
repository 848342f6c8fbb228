"""The conversation on screen: turns, Markdown and code, the composer, the document strip."""
