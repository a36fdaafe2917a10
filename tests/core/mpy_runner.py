# Runs the plain test_* functions of tests/core/ on CPython and on MicroPython alike (the wasm
# port has neither unittest nor pytest): import each module, call each zero-argument test_*
# function, print PASS/FAIL per test and a closing "N passed, M failed"; exit 1 on any failure.
import sys


def discover(directory):
    import os

    return sorted(n[:-3] for n in os.listdir(directory) if n.startswith("test_") and n.endswith(".py"))


def report_error(error):
    if hasattr(sys, "print_exception"):  # MicroPython
        sys.print_exception(error)
    else:
        import traceback

        traceback.print_exception(type(error), error, error.__traceback__)


def run(names):
    passed = failed = 0
    for name in names:
        try:
            module = __import__(name)
            tests = [(n, getattr(module, n)) for n in sorted(dir(module)) if n.startswith("test_")]
        except Exception as error:  # a module that cannot import fails as a whole
            print("FAIL %s (import): %r" % (name, error))
            report_error(error)
            failed += 1
            continue
        for test_name, test in tests:
            if not callable(test):
                continue
            try:
                test()
            except Exception as error:
                print("FAIL %s.%s: %r" % (name, test_name, error))
                report_error(error)
                failed += 1
            else:
                print("PASS %s.%s" % (name, test_name))
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return failed


def main(names=None, directory="."):
    if run(names if names else discover(directory)):
        sys.exit(1)


if __name__ == "__main__":  # CPython: python tests/core/mpy_runner.py [module ...] from the repo root
    sys.path.insert(0, ".")
    here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
    sys.path.insert(0, here)
    main(sys.argv[1:], here)
