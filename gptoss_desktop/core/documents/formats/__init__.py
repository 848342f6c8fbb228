"""One reader per file format: bytes in, text spans with their pages or lines out."""
