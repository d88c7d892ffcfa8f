"""Pure domain: IMAS vocabulary, land-release arithmetic, rules and errors."""
