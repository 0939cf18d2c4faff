"""How much a request may send: a CSV upload up to the settings' limit, anything else up to 8 MB.

An ASGI middleware, so that a body too large is refused before anything
reads it into memory. The import page answers a file too large itself,
with a page that says so (`pages.transfer`); a body that does not say its
size is cut off where it passes the limit.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse

from sync.server.settings import MB, Settings

BODY_LIMIT = 8 * MB  # a push of 1000 records is well under 1 MB
UPLOAD_PATH = "/import"
FORM_SLACK = MB  # the multipart form around an uploaded file: its boundaries and other fields


class BodyLimit:
    """Wraps the app: refuses or cuts off a request body past its limit."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.upload_limit = settings.max_upload_bytes + FORM_SLACK

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("path") == UPLOAD_PATH
        limit = self.upload_limit if upload else BODY_LIMIT
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            # The server holds a client to the size it declared; the import page judges its own.
            if not upload and (not length.isdigit() or int(length) > limit):
                response = PlainTextResponse(f"the body is larger than {limit // MB} MB", status_code=413)
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    return {"type": "http.disconnect"}  # the app stops reading: nothing more is kept
            return message

        await self.app(scope, counted, send)
