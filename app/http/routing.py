"""The Flask class the factory builds: routing answers that would otherwise bypass the JSON error handlers.

Flask returns werkzeug's routing redirects (a 308 to the path with merged slashes or an added trailing
slash, its Location built from the client's Host header) as an HTML page, without calling any error
handler, and answers an automatic OPTIONS with an empty `text/html` 200. Here neither happens.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, Request, Response
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect


class ApiFlask(Flask):
    """Flask, with no routing redirect (a JSON 404 instead) and a 204 with Allow for an automatic OPTIONS."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `/api//v1/x` matches nothing instead of redirecting to `/api/v1/x`. Rules read this when they
        # are added, so only the static route (added above) still merges; raise_routing_exception covers it.
        self.url_map.merge_slashes = False

    def raise_routing_exception(self, request: Request) -> NoReturn:
        """Turn a routing redirect into a 404 that the error handlers answer in JSON."""
        if isinstance(request.routing_exception, RequestRedirect):
            raise NotFound()
        super().raise_routing_exception(request)

    def make_default_options_response(self) -> Response:
        """Answer an OPTIONS the app has no view for with 204 No Content, the allowed methods in Allow."""
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response
