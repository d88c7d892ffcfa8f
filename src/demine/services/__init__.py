"""Use cases: fn(uow, *, actor, ...) — check permission, validate, write, audit.

Entity rules (the hazard ledger, releases of activities) register their hooks with
``records`` when the first write needs them, so read-only commands load no geometry stack.
"""
