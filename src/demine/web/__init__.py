"""HTTP adapters: the web app, API, OGC API and tiles."""
