"""One `ttrelay dev` process shared by every end-to-end test (started as a user would start it)."""

from collections.abc import Iterator

import pytest
from support.stack import dev_process


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("dev") / "ttrelay-dev.log"
    # A short visibility timeout and batching window so retries and batches show up within the test.
    with dev_process(
        log, "--visibility-timeout", "3", "--parameter-overrides", "ForwardBatchWindowSeconds=1"
    ) as url:
        yield url
