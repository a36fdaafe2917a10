"""`make bench`: run every bench/bench_*.py module's main() (or only those named on the command
line: `python -m bench kadcast storage`). Each writes bench/results/<area>.json."""
import importlib
import os
import sys
import time


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    names = sorted(n[6:-3] for n in os.listdir(here) if n.startswith("bench_") and n.endswith(".py"))
    chosen = argv or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        print("unknown benchmark(s): %s (known: %s)" % (", ".join(unknown), ", ".join(names)))
        return 2
    os.makedirs(os.path.join(here, "results"), exist_ok=True)
    failed = []
    for name in chosen:
        print("== bench %s" % name, flush=True)
        start = time.time()
        try:
            importlib.import_module("bench.bench_%s" % name).main()
        except Exception as exc:  # noqa: BLE001 - report and go on with the other benchmarks
            print("bench %s failed: %s: %s" % (name, type(exc).__name__, exc))
            failed.append(name)
        print("== bench %s took %.1f s" % (name, time.time() - start), flush=True)
    if failed:
        print("failed benchmarks: %s" % ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
