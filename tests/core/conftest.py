"""tests/core holds plain test_* functions that also run under MicroPython (mpy_runner.py).
Everything collected from this folder is a fast unit test, so it joins the pure-twin pass."""
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # A conftest hook sees the whole session's items: mark only those from this folder.
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.twin)
