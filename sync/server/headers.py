"""Security headers on every answer, and the request's real scheme and client behind a trusted proxy.

An ASGI middleware: pages may run no inline script and no other site may
frame them (Content-Security-Policy), browsers do not guess content types,
links carry no address to other sites, nothing with personal data is
cached, and over HTTPS the browser is told to stay on HTTPS and cookies are
`Secure`. A request that came through a proxy named in the settings counts
as HTTPS when the proxy says so (X-Forwarded-Proto), and as coming from the
address the proxy names (X-Forwarded-For); from anyone else those headers
count for nothing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

from sync.server.settings import Settings

CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])
HSTS = "max-age=31536000"
STATIC = "/static/"  # the pages' style sheet and script: no personal data, may be cached


def real_peer(scope: dict, settings: Settings) -> dict:
    """The scope with the scheme and client address a trusted proxy reports, else as it came."""
    client = scope.get("client")
    if not client or not settings.trusts(client[0]):
        return scope
    headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    scope = dict(scope)
    proto = headers.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
    if proto in ("http", "https"):
        scope["scheme"] = proto
    hops = [h.strip() for h in headers.get(b"x-forwarded-for", "").split(",") if h.strip()]
    # The nearest hop not itself a trusted proxy is the client: addresses
    # further left were written by whoever sent the request.
    for hop in reversed(hops):
        if not settings.trusts(hop):
            scope["client"] = (hop, 0)
            break
    else:
        if hops:
            scope["client"] = (hops[0], 0)
    return scope


class SecurityHeaders:
    """Wraps the app: the real peer in, the security headers out."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = real_peer(scope, self.settings)
        https = scope.get("scheme") == "https"
        cacheable = scope.get("path", "").startswith(STATIC)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                if https:
                    message["headers"] = [
                        (k, v + b"; Secure") if k.lower() == b"set-cookie" and b"secure" not in v.lower() else (k, v)
                        for k, v in message.get("headers", [])]
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                if not cacheable:
                    headers["Cache-Control"] = "no-store"
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)
