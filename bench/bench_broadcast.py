"""Broadcast modes side by side (issue 12) on the transfer-level model, 10,000 nodes: as-specified
Kadcast (dusk_edge/sim/broadcast_model.py) and the edge mode (small messages: relay + tree push;
large: stripe trees, dusk_edge/sim/broadcast_stripes.py). 1 KB and 1 MB, loss 0/12/25%, uplinks
10 and 100 Mbps: coverage, SYMBOL copies sent per node, time to 99% of nodes, origin-guess accuracy
of an observer holding 10% of the nodes (relay on; relay off paired on the same topology and origin
for the latency ratio). The headline point (1 MB, 12%, 10 Mbps) is the median of HEADLINE_RUNS
runs, every other point one run at 10,000 nodes; an ablation of the design's knobs runs at
ABLATION_N nodes. Two worker processes. Writes bench/results/broadcast.json and broadcast_*.png."""
import multiprocessing
import os
import random
import statistics
import time

import numpy as np

from bench.common import write_results
from dusk_edge.sim import broadcast_model as bm
from dusk_edge.sim import broadcast_stripes as bs

N = 10000
ABLATION_N = 2000
HEADLINE_RUNS = 3
LOSSES = (0.0, 0.12, 0.25)
UPLINKS = (10_000_000, 100_000_000)
SIZES = (1024, 1 << 20)
LARGE = 8192                     # edge large_threshold: above it, stripe trees
HEADLINE = (1 << 20, 0.12, 10_000_000)
GUESS_SETS = 100                 # random observer sets per run
ABLATION = [                     # (name, config kwargs, spec-based?[, loss])
    ("spec as written", {}, True),
    ("spec + control first", {"control_first": True}, True),
    ("spec + control first + arq 3", {"control_first": True, "arq": 3}, True),
    ("+ offer_attempts 5", {"control_first": True, "arq": 3, "offer_attempts": 5}, True),
    ("spec + interior_cap 2 + offer_attempts 5", {"interior_cap": 2.0, "offer_attempts": 5}, True),
    ("default without arq", {"arq": 0}, False),
    ("default without done", {"done": False}, False),
    ("default, arq 1", {"arq": 1}, False),
    ("default", {}, False),
    ("default, repair 20%", {"repair_percent": 20}, False),
    ("default, stripes 8", {"stripes": 8}, False),
    ("default, low-RTT delegate (of 4)", {"delegate_sample": 4}, False),
    ("default at 25% loss", {}, False, 0.25),
    ("default without repair ask cap, 25% loss", {"repair_ask_percent": 0}, False, 0.25),
]


def setup(n, seed):
    rng = random.Random(seed)
    topo = bm.Topology(n, rng)
    origin = rng.randrange(n)
    relay = rng.choice(topo.fastest(origin))
    return rng, topo, origin, relay


def push_job(mode, size, loss, uplink, seed):
    rng, topo, origin, relay = setup(N, seed)
    nprng = np.random.default_rng(seed)
    relay = relay if mode == "edge" else None
    res = bm.Sim(topo, rng, nprng, loss, uplink).run_push(size, origin, relay)
    right = total = 0
    for _ in range(GUESS_SETS // 2):
        observers = set(rng.sample(range(N), N // 10))
        if origin in observers:
            continue
        total += 1
        right += bm.guess_origin(topo, res, observers, size * 8000.0 / uplink) == origin
    copies = [b / size for b in res.bytes_sent]
    return metrics(res.arrival, copies, origin, right / total if total else None)


def stripe_job(size, loss, uplink, seed, relay_on=True, n=N, config=None, spec=False):
    rng, topo, origin, relay = setup(n, seed)
    cfg = bs.StripeConfig.spec(**config) if spec else bs.StripeConfig(**(config or {}))
    relay = relay if relay_on else None
    res = bs.StripeSim(topo, rng, loss, uplink, config=cfg).run(size, origin, relay)
    out = metrics(res.arrival, [b / size for b in res.sym_bytes], origin,
                  bs.guess_accuracy(res, origin, n, random.Random(seed), GUESS_SETS))
    out.update(control_copies=sum(res.ctl_bytes) / n / size, delegates_replaced=res.replaced,
               repair_requests=res.repair_requests,
               relay_copies=res.sym_bytes[res.relay] / size if res.relay is not None else None)
    return out


def metrics(arrival, copies, origin, guess):
    arr = [a for a in arrival if a is not None]
    n = len(arrival)
    t99 = sorted(arr)[int(np.ceil(0.99 * n)) - 1] if len(arr) >= np.ceil(0.99 * n) else None
    return {"coverage": len(arr) / n, "t99_ms": t99, "mean_ms": statistics.mean(arr),
            "copies_mean": sum(copies) / n, "copies_p99": bs.quantile(copies, 0.99),
            "copies_max": max(copies), "origin_copies": copies[origin], "guess": guess}


def run(job):
    kind, key, args, kwargs = job
    t0 = time.time()
    out = (push_job if kind == "push" else stripe_job)(*args, **kwargs)
    out["wall_s"] = round(time.time() - t0, 1)
    return key, out


def jobs():
    out = []
    for size in SIZES:
        for loss in LOSSES:
            for up in UPLINKS:
                point = (size, loss, up)
                runs = HEADLINE_RUNS if point == HEADLINE else 1
                for r in range(runs):
                    seed = 1000 + 97 * r + int(loss * 100) + (7 if up == UPLINKS[1] else 0)
                    out.append(("push", ("as-specified",) + point + (r,),
                                ("as-specified",) + point + (seed,), {}))
                    if size > LARGE:
                        out.append(("stripe", ("edge",) + point + (r,), point + (seed,), {}))
                        if point == HEADLINE:
                            out.append(("stripe", ("edge-relay-off",) + point + (r,),
                                        point + (seed,), {"relay_on": False}))
                    else:
                        out.append(("push", ("edge",) + point + (r,),
                                    ("edge",) + point + (seed,), {}))
    for name, kw, spec, *loss in ABLATION:
        point = (HEADLINE[0], loss[0] if loss else HEADLINE[1], HEADLINE[2])
        out.append(("stripe", ("ablation", name), point + (4242,),
                    {"n": ABLATION_N, "config": kw, "spec": spec}))
    # big stripe runs first so the two workers end together
    weight = {"stripe": 2, "push": 1}
    out.sort(key=lambda j: -weight[j[0]] * (10 if j[1][0] != "ablation" and j[1][1] > LARGE else 1))
    return out


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(results):
    rows = []
    for size in SIZES:
        for loss in LOSSES:
            for up in UPLINKS:
                for mode in ("as-specified", "edge"):
                    runs = [v for k, v in results.items() if k[:4] == (mode, size, loss, up)]
                    row = {"mode": mode, "size": size, "loss": loss, "uplink_mbps": up // 1_000_000,
                           "nodes": N, "runs": len(runs),
                           "path": ("stripe trees" if size > LARGE else "relay + tree push")
                           if mode == "edge" else "tree push (beta 3, raptorq)",
                           "coverage_median": med([r["coverage"] for r in runs]),
                           "coverage_min": min(r["coverage"] for r in runs),
                           "wall_s": sum(r["wall_s"] for r in runs)}
                    for m in ("t99_ms", "mean_ms", "copies_mean", "copies_p99", "copies_max",
                              "origin_copies", "guess", "control_copies", "delegates_replaced",
                              "repair_requests", "relay_copies"):
                        if m in runs[0]:
                            row[m + "_median"] = med([r[m] for r in runs])
                    offs = dict((k[4], v) for k, v in results.items()
                                if k[:4] == ("edge-relay-off", size, loss, up))
                    off = list(offs.values())
                    if mode == "edge" and off:
                        pairs = sorted((k[4], v) for k, v in results.items()
                                       if k[:4] == (mode, size, loss, up))
                        row["relay_off_t99_ms_median"] = med([r["t99_ms"] for r in off])
                        row["relay_off_guess_median"] = med([r["guess"] for r in off])
                        row["t99_ratio_relay_on_off_median"] = med(
                            [v["t99_ms"] / offs[i]["t99_ms"] for i, v in pairs
                             if v["t99_ms"] and offs[i]["t99_ms"]])
                        row["mean_ratio_relay_on_off_median"] = med(
                            [v["mean_ms"] / offs[i]["mean_ms"] for i, v in pairs])
                    rows.append(row)
    losses = dict((a[0], a[3] if len(a) > 3 else HEADLINE[1]) for a in ABLATION)
    ablation = [dict(config=k[1], nodes=ABLATION_N, size=HEADLINE[0], loss=losses[k[1]],
                     uplink_mbps=HEADLINE[2] // 1_000_000, **v)
                for k, v in results.items() if k[0] == "ablation"]
    ablation.sort(key=lambda r: [a[0] for a in ABLATION].index(r["config"]))
    return rows, ablation


def goals(rows):
    h = next(r for r in rows if r["mode"] == "edge"
             and (r["size"], r["loss"], r["uplink_mbps"] * 1_000_000) == HEADLINE)
    return {"coverage_1mb_12pct_10mbps": h["coverage_median"], "coverage_goal": 0.999,
            "copies_per_node_1mb_12pct_10mbps": h["copies_mean_median"], "copies_goal": 1.5,
            "t99_ms_1mb_12pct_10mbps_originator": h["t99_ms_median"], "t99_goal_ms": 5000,
            "origin_guess_relay_on": h["guess_median"],
            "origin_guess_relay_off": h["relay_off_guess_median"],
            "guess_goal": 0.22, "t99_ratio_relay_on_off": h["t99_ratio_relay_on_off_median"],
            "latency_ratio_goal": 1.10,
            "met": bool(h["coverage_median"] >= 0.999 and h["copies_mean_median"] <= 1.5
                        and h["t99_ms_median"] is not None and h["t99_ms_median"] <= 5000
                        and h["guess_median"] <= 0.22
                        and h["t99_ratio_relay_on_off_median"] <= 1.10)}


def plot(rows, ablation, here):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for metric in ("coverage_median", "copies_mean_median", "t99_ms_median"):
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, size in zip(axes, SIZES):
            for mode in ("as-specified", "edge"):
                for up in UPLINKS:
                    pts = [(r["loss"], r[metric]) for r in rows
                           if r["mode"] == mode and r["size"] == size
                           and r["uplink_mbps"] == up // 1_000_000 and r.get(metric) is not None]
                    if pts:
                        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                                label="%s %d Mbps" % (mode, up // 1_000_000))
            ax.set_title("%s, %d B, %d nodes" % (metric.replace("_median", ""), size, N))
            ax.set_xlabel("loss")
            if metric != "coverage_median":
                ax.set_yscale("log")
            ax.legend(fontsize=7)
        fig.tight_layout()
        name = "broadcast_%s.png" % metric.replace("_median", "")
        fig.savefig(os.path.join(here, "results", name))
        plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = [r["config"] for r in ablation]
    axes[0].barh(names, [r["t99_ms"] or 0 for r in ablation])
    axes[0].set_xlabel("t99 ms (1 MB, 12%% loss unless named, 10 Mbps, %d nodes)" % ABLATION_N)
    axes[1].barh(names, [r["copies_mean"] for r in ablation])
    axes[1].set_xlabel("SYMBOL copies per node")
    axes[1].set_yticks([])
    fig.tight_layout()
    fig.savefig(os.path.join(here, "results", "broadcast_ablation.png"))
    plt.close(fig)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for stale in ("broadcast_copies_per_node.png",):
        path = os.path.join(here, "results", stale)
        if os.path.exists(path):
            os.remove(path)
    results = {}
    todo = jobs()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for key, out in pool.imap_unordered(run, todo):
            results[key] = out
            print(key, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()},
                  flush=True)
    rows, ablation = summarise(results)
    summary = goals(rows)
    path = write_results("broadcast", {
        "model": "dusk_edge/sim/broadcast_model.py + broadcast_stripes.py (transfer level)",
        "runs": "headline point (1 MB, 12%%, 10 Mbps): median of %d runs (relay on and off, "
                "paired); every other point 1 run at %d nodes; ablation 1 run each at %d nodes"
                % (HEADLINE_RUNS, N, ABLATION_N),
        "edge_config": vars(bs.StripeConfig()), "goals": summary, "rows": rows,
        "ablation": ablation})
    plot(rows, ablation, here)
    print("goals", summary)
    print("wrote", path)
