"""Run the demine CLI as ``python -m demine``."""

from demine.cli.entry import main

main()
