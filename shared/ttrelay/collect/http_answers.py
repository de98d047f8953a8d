"""What the collector answers over HTTP, as a Lambda result (payload format 2.0).

Every answer is built here: the 202 with the visitor's click-id cookie, each refusal in the one error
shape (`CollectError`), the CORS preflight, and the 404/405 of paths and methods it does not serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from ttrelay.collect.cookie import COOKIE_NAME
from ttrelay.collect.cors import ALLOWED_METHODS, CorsPolicy, readable_by_sandboxed_page
from ttrelay.collect.responses import CollectError

if TYPE_CHECKING:
    from ttrelay.collect.http_request import HttpRoute
    from ttrelay.collect.rejection import CollectRejected
    from ttrelay.collect.use_case import CollectOutcome
    from ttrelay.config import CollectSettings

JSON: Final = "application/json"
COLLECT_PATH: Final = "/events"
_NO_HEADERS: Final[Mapping[str, str]] = {}


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CollectAnswers:
    """The answers of one deployment: its CORS policy and its cookie's attributes, read once."""

    cors: CorsPolicy
    cookie_domain: str  # empty: the cookie is the host's alone
    cookie_max_age_s: int

    @classmethod
    def of(cls, settings: CollectSettings) -> CollectAnswers:
        return cls(
            CorsPolicy.of(settings.allowed_origins),
            settings.cookie_domain,
            settings.cookie_max_age_days * 86_400,
        )

    def accepted(self, route: HttpRoute, outcome: CollectOutcome) -> HttpAnswer:
        cookies = [self._click_id_cookie(outcome.token)] if outcome.token else []
        if outcome.clear_cookie:
            cookies = [self._click_id_cookie("", max_age_s=0)]
        if outcome.sandboxed or outcome.backend:
            cookies = []  # neither a sandboxed page nor a backend has a cookie jar of ours
        headers = {"Content-Type": JSON, **readable_by_sandboxed_page(route.origin)}
        return HttpAnswer(202, outcome.body_json(), headers, cookies)

    def rejected(self, route: HttpRoute, error: CollectRejected) -> HttpAnswer:
        headers = {**error.headers, **readable_by_sandboxed_page(route.origin)}
        return _error(error.status, error.error, error.errors, headers)

    def preflight(self, route: HttpRoute) -> HttpAnswer:
        return HttpAnswer(204, headers=self.cors.preflight_headers(route.origin))

    def not_served(self, route: HttpRoute) -> HttpAnswer:
        """404 for another path, 405 (with Allow) for another method on the collector's own."""
        if route.path == COLLECT_PATH:
            allowed = ", ".join(ALLOWED_METHODS)
            message = f"{route.method or 'this method'} is not served here; send POST {COLLECT_PATH}"
            return _error(405, "method_not_allowed", [{"msg": message}], {"Allow": allowed})
        return _error(404, "not_found", [{"msg": f"the collector serves POST {COLLECT_PATH} only"}])

    def lambda_result(self, route: HttpRoute, answer: HttpAnswer) -> dict[str, Any]:
        """The function URL / HTTP API result: the answer plus the site's CORS headers, varying on
        Origin (the preflight already carries them)."""
        headers = {**self.cors.headers_for(route.origin), **answer.headers, "Vary": "Origin"}
        return {
            "statusCode": answer.status,
            "headers": headers,
            "cookies": answer.cookies,
            "body": answer.body,
            "isBase64Encoded": False,
        }

    def _click_id_cookie(self, value: str, max_age_s: int | None = None) -> str:
        return str(
            Cookie(
                name=COOKIE_NAME,
                value=value,
                path="/",
                domain=self.cookie_domain,
                secure=True,
                http_only=True,
                same_site=SameSite.LAX_MODE,
                max_age=self.cookie_max_age_s if max_age_s is None else max_age_s,
            )
        )


def _error(
    status: int, error: str, errors: Sequence[Mapping[str, object]], headers: Mapping[str, str] = _NO_HEADERS
) -> HttpAnswer:
    """Every refusal in the one error shape (docs/openapi.json), whoever refused."""
    body = CollectError.model_validate({"error": error, "errors": errors})
    return HttpAnswer(status, body.model_dump_json(exclude_unset=True), {"Content-Type": JSON, **headers})
