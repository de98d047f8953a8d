"""The Events API client: one pooled httpx client, token per pixel, every answer classified."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from ttrelay.forward.events_api import TRACK_PATH, Classification, Verdict, classify


@dataclass
class HttpEventsApi:
    base_url: str
    access_tokens: Callable[[], Mapping[str, object]]  # {"default": token, "<PIXEL>": token}
    timeout_seconds: float = 10.0
    _client: httpx.Client | None = field(default=None, init=False, repr=False)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url.rstrip("/"),
                timeout=httpx.Timeout(self.timeout_seconds, connect=min(self.timeout_seconds, 3.0)),
                limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=60),
            )
        return self._client

    def send(self, pixel_code: str, body: dict[str, object]) -> Classification:
        tokens = self.access_tokens()
        token = tokens.get(pixel_code) or tokens.get("default")
        if not isinstance(token, str) or not token:
            return Classification(Verdict.PERMANENT, "config:no_access_token", alert=True)
        try:
            response = self._http().post(TRACK_PATH, json=body, headers={"Access-Token": token})
        except httpx.TimeoutException:
            return classify(None, None, transport_error="timeout")
        except httpx.TransportError as exc:
            return classify(None, None, transport_error=type(exc).__name__)
        try:
            payload: object = response.json()
        except ValueError:
            payload = response.text
        return classify(response.status_code, payload)
