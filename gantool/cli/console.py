"""The two consoles every command shares: results on stdout, messages and errors on stderr."""

from rich.console import Console

err = Console(stderr=True)
out = Console()
