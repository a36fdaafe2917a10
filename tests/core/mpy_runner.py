# Runs the plain test_* functions of tests/core/ on CPython and on MicroPython alike (the wasm
# port has neither unittest nor pytest): import each module, call each test_* function, print
# PASS/FAIL per test and a closing "N passed, M failed"; exit 1 on any failure.
import sys


def report(error):
    if hasattr(sys, "print_exception"):  # MicroPython
        sys.print_exception(error)
    else:
        import traceback

        traceback.print_exception(type(error), error, error.__traceback__)


def run_test(label, function):
    try:
        function()
    except Exception as error:
        print("FAIL %s: %r" % (label, error))
        report(error)
        return 0
    print("PASS " + label)
    return 1


def main(names=None, directory="."):
    import os

    names = names or sorted(n[:-3] for n in os.listdir(directory) if n.startswith("test_") and n.endswith(".py"))
    passed = failed = 0
    for name in names:
        module = []
        if not run_test(name + " (import)", lambda: module.append(__import__(name))):
            failed += 1
            continue
        for attr in sorted(dir(module[0])):
            test = getattr(module[0], attr)
            if attr.startswith("test_") and callable(test):
                ok = run_test(name + "." + attr, test)
                passed += ok
                failed += 1 - ok
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        sys.exit(1)


if __name__ == "__main__":  # CPython, from the repo root: python tests/core/mpy_runner.py [module ...]
    here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
    sys.path[:0] = [here, "."]
    main(sys.argv[1:], here)
