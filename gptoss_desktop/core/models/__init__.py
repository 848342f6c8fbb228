"""Getting a model onto the machine: where gpt-oss GGUFs are published, what is on disk, and verified downloads."""
