"""Command-line adapters: parse, call one service, render."""
