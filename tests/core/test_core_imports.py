# Every module under dusk_edge/core imports on this interpreter. Under MicroPython this catches
# what the mpy-cross gate cannot: a missing module or builtin used at import time.
import os

import dusk_edge.core
import expect


def is_directory(path):
    return os.stat(path)[0] & 0x4000 != 0  # S_IFDIR; MicroPython's stat is a plain tuple


def collect_modules(directory, package, names):
    for entry in sorted(os.listdir(directory)):
        path = directory + "/" + entry
        if entry.endswith(".py") or entry.endswith(".mpy"):
            stem = entry.rsplit(".", 1)[0]
            names.append(package if stem == "__init__" else package + "." + stem)
        elif entry != "__pycache__" and is_directory(path):
            collect_modules(path, package + "." + entry, names)
    return names


def core_module_names():
    root = dusk_edge.core.__file__.replace("\\", "/").rsplit("/", 1)[0]
    return sorted(set(collect_modules(root, "dusk_edge.core", [])))


def test_core_modules_are_found():
    names = core_module_names()
    for expected in ("dusk_edge.core.wire", "dusk_edge.core.hashes", "dusk_edge.core.consensus.quorum"):
        expect.true(expected in names, expected + " found")


def test_every_core_module_imports():
    failures = []
    for name in core_module_names():
        try:
            __import__(name)
        except Exception as error:
            failures.append("%s: %r" % (name, error))
    if failures:
        raise AssertionError("core modules that fail to import:\n  " + "\n  ".join(failures))
