"""The browser fixtures (defined in ``browsing``)."""

from .browsing import browser, open_page, served  # noqa: F401 - fixtures registered here
