"""demine: open mine action information management."""

__version__ = "0.1.0"
