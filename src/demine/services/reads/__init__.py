"""Reading what an actor may see: lists, OGC feature pages, statistics, exports."""
