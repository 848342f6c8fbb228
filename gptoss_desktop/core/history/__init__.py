"""Conversations kept in SQLite: the store and its migrations, titles, and export to Markdown or JSON."""
