# The only runtime sniffing in the core: MicroPython's const() and a few names CPython lacks.
try:
    from micropython import const  # noqa: F401
except ImportError:  # CPython

    def const(value):
        return value


try:
    import sys

    IS_MICROPYTHON = sys.implementation.name == "micropython"
except AttributeError:  # pragma: no cover
    IS_MICROPYTHON = False
