"""Broadcast modes side by side (issue 12) on the transfer-level model (dusk_edge/sim/broadcast_model.py):
coverage, copies sent per node, time to 99% of nodes, origin-guess accuracy of an observer holding
10% of the nodes. Writes bench/results/broadcast.json and broadcast_*.png.

Honest scope (see the report in docs/edge-broadcast.md): the as-specified mode and the edge mode's
small-message path (relay + tree push) run at 10,000 nodes; the edge mode's large-message pull path
does not yet finish at that scale in the model (its refuse/hint churn explodes), so it runs at
EDGE_PULL_N nodes and is labelled so."""
import os
import random
import statistics
import time

import numpy as np

from bench.common import write_results
from dusk_edge.sim import broadcast_model as bm

N = 10000
EDGE_PULL_N = 300
RUNS = 2
LOSSES = (0.0, 0.12, 0.25)
UPLINKS = (10_000_000, 100_000_000)
SIZES = (1024, 1 << 20)


def one(topo, rng, nprng, mode, size, loss, uplink):
    origin = rng.randrange(topo.n)
    relay = rng.choice(topo.fastest(origin)) if mode == "edge" else None
    if mode == "edge" and size > 8192:
        res = bm.EdgePullSim(topo, rng, nprng, loss, uplink).run(size, origin, relay)
    else:
        res = bm.Sim(topo, rng, nprng, loss, uplink).run_push(size, origin, relay)
    n = topo.n
    observers = set(rng.sample(range(n), n // 10))
    guess = None if origin in observers else bm.guess_origin(
        topo, res, observers, size * 8000.0 / uplink)
    arrivals = [a for a in res.arrival if a is not None]
    return {"coverage": len(arrivals) / n,
            "copies_per_node": sum(res.bytes_sent) / n / size,
            "origin_copies": res.bytes_sent[origin] / size,
            "t99_ms": bm.time_to_fraction(res, 0.99),
            "mean_ms": statistics.mean(arrivals),
            "guess_ok": None if guess is None else guess == origin}


def run_config(mode, size, loss, uplink):
    n = EDGE_PULL_N if (mode == "edge" and size > 8192) else N
    rng = random.Random(hash((mode, size, loss, uplink)) & 0xFFFF)
    nprng = np.random.default_rng(rng.getrandbits(32))
    topo = bm.Topology(n, rng)
    runs = [one(topo, rng, nprng, mode, size, loss, uplink) for _ in range(RUNS)]
    guesses = [r["guess_ok"] for r in runs if r["guess_ok"] is not None]
    t99 = [r["t99_ms"] for r in runs if r["t99_ms"] is not None]
    return {"mode": mode, "size": size, "loss": loss, "uplink_mbps": uplink // 1_000_000, "nodes": n,
            "runs": RUNS, "coverage_median": statistics.median(r["coverage"] for r in runs),
            "coverage_min": min(r["coverage"] for r in runs),
            "copies_per_node_median": statistics.median(r["copies_per_node"] for r in runs),
            "origin_copies_median": statistics.median(r["origin_copies"] for r in runs),
            "t99_ms_median": statistics.median(t99) if t99 else None,
            "mean_latency_ms_median": statistics.median(r["mean_ms"] for r in runs),
            "origin_guess_accuracy": (sum(guesses) / len(guesses)) if guesses else None}


def plot(rows, here):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for metric in ("coverage_median", "copies_per_node_median", "t99_ms_median"):
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, size in zip(axes, SIZES):
            for mode in ("as-specified", "edge"):
                for up in UPLINKS:
                    pts = [(r["loss"], r[metric]) for r in rows if r["mode"] == mode and r["size"] == size
                           and r["uplink_mbps"] == up // 1_000_000 and r[metric] is not None]
                    if pts:
                        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                                label="%s %d Mbps" % (mode, up // 1_000_000))
            ax.set_title("%s, %d B" % (metric, size))
            ax.set_xlabel("loss")
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(here, "results", "broadcast_%s.png" % metric.replace("_median", "")))
        plt.close(fig)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rows = []
    for size in SIZES:
        for loss in LOSSES:
            for uplink in UPLINKS:
                for mode in ("as-specified", "edge"):
                    t0 = time.time()
                    row = run_config(mode, size, loss, uplink)
                    row["wall_s"] = round(time.time() - t0, 1)
                    rows.append(row)
                    print(row, flush=True)
    path = write_results("broadcast", {"model": "dusk_edge/sim/broadcast_model.py (transfer level)",
                                       "rows": rows})
    plot(rows, here)
    print("wrote", path)
