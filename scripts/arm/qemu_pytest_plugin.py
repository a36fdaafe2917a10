"""pytest plugin for runs under qemu-user (`-p qemu_pytest_plugin`, scripts/arm on PYTHONPATH).

Emulation makes Python ~9x and native code 8-90x slower (DEPENDENCIES.md §8), so hypothesis'
per-example deadline would flag correct code; the example count stays as each test sets it.
"""
import platform

from hypothesis import settings

settings.register_profile("qemu", deadline=None, print_blob=True)
settings.load_profile("qemu")


def pytest_report_header(config):
    import dusk_edge
    from dusk_edge.core import accel

    return "qemu run: machine=%s backend=%s dusk_edge from %s" % (
        platform.machine(), accel.ACTIVE, dusk_edge.__path__[0])
