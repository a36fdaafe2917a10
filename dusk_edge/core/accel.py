# Picks the C speedups (dusk_edge._speedups) or their pure twin (core/_native.py) once, at import.
# DUSK_EDGE_PUREPYTHON=1 forces the twin. On MicroPython the ImportError branch is the normal path.
# Call through the module (accel.crc32c(...)) so tests can swap the backend.
try:
    import os

    _FORCE_PURE = os.environ.get("DUSK_EDGE_PUREPYTHON", "") not in ("", "0")
except (ImportError, AttributeError):  # MicroPython without os.environ
    _FORCE_PURE = False

from dusk_edge.core import _native

NATIVE = _native
SPEEDUPS = None
if not _FORCE_PURE:
    try:
        from dusk_edge import _speedups as SPEEDUPS
    except ImportError:
        SPEEDUPS = None

MISSING_IN_C = ()


def use(backend):
    """Install ``backend`` (the C module or _native); returns the previous one.

    Every public name of the pure twin is re-exported here; a name the C module lacks (while a
    speedup is being written) falls back to the twin and is listed in MISSING_IN_C, which
    tests/test_speedups_equiv.py requires to be empty."""
    global BACKEND, ACTIVE, MISSING_IN_C
    previous = BACKEND if "BACKEND" in globals() else None
    missing = []
    for name in dir(_native):
        if name.startswith("_"):
            continue
        fn = getattr(_native, name)
        if not callable(fn):
            continue
        chosen = getattr(backend, name, None)
        if chosen is None:
            missing.append(name)
            chosen = fn
        globals()[name] = chosen
    BACKEND = backend
    ACTIVE = "c" if backend is not _native else "pure"
    MISSING_IN_C = tuple(missing) if backend is not _native else ()
    return previous


use(SPEEDUPS if SPEEDUPS is not None else _native)
