"""Who may see and do what: the visibility predicate, rights, sharing, accounts and sign-in."""
