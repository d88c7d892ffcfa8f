"""Reading what an actor may see: one list engine (REST lists, OGC feature pages), statistics,
exports."""
