"""Vector tiles: making them (MVT), caching them, and dropping the ones a change touched."""
