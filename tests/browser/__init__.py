"""The web UI in a real browser (a test package, like tests/authz on main: its conftest is
``browser.conftest`` and does not shadow tests/conftest.py).

* ``browsing.py``: the fixtures (``browser``: Debian's chromium through Playwright; ``served``:
  the app under uvicorn on loopback over a copy of the demo region, per backend; ``open_page``:
  pages that record their requests and console errors) and helpers.
* ``conftest.py``: registers those fixtures.
* ``test_browser_pages.py``: the tests.
"""
