"""How the central store answers what it refuses: JSON for the kiosks' API, a page for the librarian.

A value a person or a kiosk got wrong is a 4xx that names the field, never
a 500. The API's 422 does not echo the refused values: they may be
megabytes, or text (a lone surrogate) that no JSON encoder can write.
"""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from sync.protocol import API


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: any text can be written."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def refused_fields(exc: RequestValidationError) -> list[dict]:
    """The validation errors with where and why, without the values themselves."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()]


def is_api(request: Request) -> bool:
    """Whether a request is for the kiosks' API (JSON) rather than a librarian's page."""
    return request.url.path.startswith(API + "/") or request.url.path == "/openapi.json"


def api_refusal(exc: RequestValidationError) -> Response:
    """The kiosks' API's 422: every refused field named."""
    return AsciiJSONResponse(status_code=422, content={"detail": refused_fields(exc)})
