"""Helpers for benchmarks: median of repeated timings, writing results with machine info."""
import json
import os
import platform
import statistics
import time


def median_ms(fn, runs=7, inner=1):
    """Median wall time of ``fn()`` in milliseconds over ``runs`` runs of ``inner`` calls each."""
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) * 1000 / inner)
    return statistics.median(samples)


def write_results(area, results):
    """Write bench/results/<area>.json with the machine it ran on; returns the path."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", area + ".json")
    doc = {
        "area": area,
        "machine": {"python": platform.python_version(), "arch": platform.machine(),
                    "cpus": os.cpu_count()},
        "results": results,
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    return path
