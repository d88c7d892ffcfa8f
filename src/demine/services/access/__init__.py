"""Who may see and do what: the visibility predicate (permissions.py), the one entry point for
actions (require.py), sharing, accounts and sign-in."""
