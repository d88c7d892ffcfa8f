"""Run the demine CLI as ``python -m demine``."""

from demine.cli.app import main

main()
