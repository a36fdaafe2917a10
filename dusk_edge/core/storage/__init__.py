"""Sans-I/O storage formats (the chain log on flash)."""
