"""When a deployment configures an online basemap (``DEMINE_UI_BASEMAP_URL``), its one origin
is added to the Content-Security-Policy's ``connect-src`` and ``img-src`` (MapLibre fetches
raster tiles from its worker); nothing else is relaxed, and without a basemap nothing is."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = b"content-security-policy"


def widened(policy: bytes, origin: bytes) -> bytes:
    """``policy`` allowing ``origin`` for fetches and images."""
    directives = [d.strip() for d in policy.split(b";") if d.strip()]
    names = [d.split(b" ", 1)[0] for d in directives]
    for name, fallback in ((b"connect-src", b"'self'"), (b"img-src", b"'self'")):
        if name in names:
            index = names.index(name)
            directives[index] += b" " + origin
        else:
            directives.append(name + b" " + fallback + b" " + origin)
    return b"; ".join(directives)


class BasemapPolicy:
    """ASGI middleware: widens every response's CSP for the basemap's origin."""

    def __init__(self, app: ASGIApp, *, origin: str):
        self.app, self.origin = app, origin.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_widened(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k, widened(v, self.origin) if k.lower() == CSP else v)
                                      for k, v in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, send_widened)
