# Tiny assertion helpers for tests/core: they run under pytest and under MicroPython (no pytest,
# no unittest there), and unlike `assert` they are never stripped by an optimisation level.


def equal(actual, expected, what=""):
    if actual != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


def true(condition, what=""):
    if not condition:
        raise AssertionError("expected true: %s" % what)


def raises(error_type, function, *args):
    """Call ``function(*args)``; it must raise ``error_type`` (a subclass counts). Returns the error."""
    try:
        function(*args)
    except error_type as error:
        return error
    except Exception as error:
        raise AssertionError("%s raised %r, expected %s" % (what_called(function), error, error_type.__name__))
    raise AssertionError("%s did not raise %s" % (what_called(function), error_type.__name__))


def what_called(function):
    return getattr(function, "__name__", repr(function))


class Lcg:
    # Deterministic bytes for fuzz-style loops: the same stream on both interpreters.
    __slots__ = ("state",)

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next_byte(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.state >> 16) & 0xFF

    def next_bytes(self, n):
        return bytes(self.next_byte() for _ in range(n))
