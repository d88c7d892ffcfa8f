"""Use cases: fn(uow, *, actor, ...) — check permission, validate, write, audit; in rooms:
records (the write path and its rules), access (who sees and does what), reads (lists, stats,
exports), loading (imports, bulk and demo loads), tiles, checks; audit and health beside them.
"""
