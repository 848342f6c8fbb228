"""The main window and what frames the conversation: menus, sidebar, first-run screen, where it runs, sources."""
