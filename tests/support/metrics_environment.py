"""The EMF writer reads its environment once per process, as Lambda never changes it; tests do."""

from ttrelay.observability import pixel_metrics


def read_anew() -> None:
    """Forget POWERTOOLS_SERVICE_NAME and the disabled flags as read so far: the next document reads them."""
    pixel_metrics.metrics_disabled.cache_clear()
    pixel_metrics._service.cache_clear()
