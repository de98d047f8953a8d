"""One `ttrelay dev` process shared by every end-to-end test (started as a user would start it)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.stack import dev_process


@pytest.fixture(scope="session")
def dev_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dev") / "ttrelay-dev.log"


@pytest.fixture(scope="session")
def dev_state_file(dev_log: Path) -> Path:
    return dev_log.parent / "state.json"


@pytest.fixture(scope="session")
def base(dev_log: Path) -> Iterator[str]:
    # A short visibility timeout and batching window so retries and batches show up within the test.
    with dev_process(
        dev_log, "--visibility-timeout", "3", "--parameter-overrides", "ForwardBatchWindowSeconds=1"
    ) as url:
        yield url
