"""Authorization matrix: every API route × role × record cell, against an independent oracle.

Where things are
----------------
* ``rules.py``: the rules as the issue states them (roles, layers, sensitivities, ...) and the
  routes they apply to, read from the OpenAPI document (``rule_of``, ``ROUTES``).
* ``oracle.py``: ``Oracle``, who may see and change what, over rows read straight from the
  store; it also picks the targets (one record per cell).
* ``stores.py``: the demo store per backend and copies of it, ``Env`` (an app, the sign-ins and
  an oracle on one store), and the filling of the matrix.
* ``checking.py``: ``Report`` (the mismatches one test found) and checks shared by the tests.
* ``conftest.py``: the fixtures ``demo`` (the filled demo store, per backend) and ``writable``
  (a copy of it per role, for writes).
* ``test_coverage.py``: every route has a rule; the size of the matrix; every cell is met.
* ``test_reads.py``: item, search, list and counts, stats, checks, vector tiles, OGC API
  Features, health.
* ``test_writes.py``: create, update, review, delete.
* ``test_auth_audit_taskings.py``: the sign-in routes, who reads the audit log, taskings.
* ``test_regressions.py``: bugs that were found and fixed.

How it works
------------
* The routes come from ``app.openapi()["paths"]``. ``rule_of`` maps each (path, method) to a
  rule; a route without one fails ``test_every_route_has_a_rule``. The layer routes
  (``/api/v1/{layer}[/{record_id}[/review]]``) parametrize the tests by layer and role,
  so a new layer or route is picked up (or refused) automatically.
* The demo region is built once per backend (GeoPackage; PostGIS too when
  ``DEMINE_TEST_DATABASE_URL`` is set) and then *filled*, once per backend for this package:
  for each record layer and each organisation a demo user belongs to, records are cloned (as the
  admin, through the API) until every sensitivity × review status (approved, submitted,
  rejected) exists, with the demo's grants (restricted: the next organisation; confidential: one
  user of the owner), plus a few drafts entered by the field reporter.
* ``Oracle`` reads the store with plain SQLAlchemy (organisations, users, sharing agreements,
  record grants, each layer's owner / sensitivity / review columns) and answers "may this role
  see / change this record" from the issue's rules, written out in ``Oracle.sees`` and
  ``Oracle.may_write``. It imports nothing of demine's permission code.
* Targets: for each role and layer, one record per *cell* relative to the role: same / other
  organisation × sensitivity × review status × the grant that sensitivity depends on (the
  owner shares with my organisation / my organisation is named / I am named) × "I recorded
  it" (reporter). Reads use the demo store; writes use one copy of it per role and test module
  (SQLite backup / PostgreSQL template database), and the oracle re-reads the record before and
  after each write, so earlier cases cannot skew later ones. On PostGIS the writes run on a
  sample of layers (``POSTGIS_WRITE_SAMPLE``; ``DEMINE_AUTHZ_FULL=1`` runs them all).
* Read paths beyond the item/list routes: search (``q``), per-organisation counts, stats
  (totals and by organisation), the audit log, vector tiles (decoded) and OGC API Features
  (not in the /api/v1 OpenAPI document; its collections must all be known here).
* Exports: ``demine export`` is CLI-only and runs as the local system actor (full rights on
  the local file); there is no HTTP export route, so exports are outside this matrix.
* No mismatch is exempt: every case the oracle and the API disagree on fails its test. The
  regressions in ``test_regressions.py`` pin bugs that were found and fixed.
* ``test_matrix_size`` prints the number of generated cases (run with ``-s`` to see it).
"""
