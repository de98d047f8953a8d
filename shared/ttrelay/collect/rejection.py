"""The one error the collector answers with a 4xx: raised anywhere in the use case, mapped to HTTP once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CollectRejected(Exception):
    """A request the collector refuses; `errors` never contains the submitted values, and their paths
    show a key the sender chose as `<key>` (ttrelay.field_paths)."""

    def __init__(
        self,
        status: int,
        error: str,
        errors: Sequence[Mapping[str, object]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.errors = [dict(item) for item in errors]
        self.headers = dict(headers or {})
