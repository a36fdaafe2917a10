"""Shared pytest setup.

- ``require(tool)``: a test whose real component is missing fails when CI=true and skips with a
  reason elsewhere (DESIGN.md §7).
- ``twin`` tests also run in the DUSK_EDGE_PUREPYTHON=1 pass of `make test`.
"""
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def missing_component(reason):
    """Fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail("required component missing under CI=true: %s" % reason)
    pytest.skip(reason)


def require(*tools):
    """Ensure the named executables are on PATH (see missing_component)."""
    for tool in tools:
        if shutil.which(tool) is None:
            missing_component("%s is not installed" % tool)


def require_module(name):
    try:
        return __import__(name)
    except ImportError:
        missing_component("python module %s is not installed" % name)


def c_speedups():
    """The C module; skipped in the pure-twin pass, a failure under CI when it was not built."""
    from dusk_edge.core import accel

    if accel.SPEEDUPS is None:
        if os.environ.get("DUSK_EDGE_PUREPYTHON"):
            pytest.skip("pure-twin pass: C speedups disabled on purpose")
        missing_component("the C speedups are not built")
    return accel.SPEEDUPS


def assert_no_leaks(calls, warmup=200, rounds=5000):
    """Each call, looped, leaves no Python objects or allocated blocks behind (C refcount bugs)."""
    import gc
    import sys

    for call in calls:
        for _ in range(warmup):
            call()
        gc.collect()
        before = len(gc.get_objects()), sys.getallocatedblocks()
        for _ in range(rounds):
            call()
        gc.collect()
        after = len(gc.get_objects()), sys.getallocatedblocks()
        assert after[0] - before[0] < 50
        assert after[1] - before[1] < 500


@pytest.fixture(params=["c", "pure"])
def twins(request):
    """Run a test on both accel backends; yields the accel module switched to that backend."""
    from dusk_edge.core import _native, accel

    if request.param == "c":
        if accel.SPEEDUPS is None:
            if os.environ.get("DUSK_EDGE_PUREPYTHON"):
                pytest.skip("pure-twin pass: the C speedups are disabled on purpose")
            missing_component("the C speedups are not built")
        previous = accel.use(accel.SPEEDUPS)
    else:
        previous = accel.use(_native)
    try:
        yield accel
    finally:
        accel.use(previous)
