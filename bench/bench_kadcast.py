"""Kadcast at 10,000 nodes (chunk-level model, dusk_edge/sim/overlay_model.py), origin privacy,
a real-core cross-check of the model, and RS vs RaptorQ throughput.

Writes bench/results/kadcast.json and bench/results/kadcast_*.png. BENCH_KADCAST_QUICK=1 shrinks
every loop (for a smoke run); the figures in reports come from the full run.
"""
import os
import random
import statistics
import time

from bench.common import median_ms, write_results

QUICK = os.environ.get("BENCH_KADCAST_QUICK", "") not in ("", "0")
N = 2000 if QUICK else 10000
LOSSES = [0.0, 0.12, 0.25] if QUICK else [0.0, 0.05, 0.10, 0.12, 0.15, 0.20, 0.25]
REPS = {1024: 1 if QUICK else 3, 1 << 20: 1 if QUICK else 2}
PRIVACY_BROADCASTS = 10 if QUICK else 60
MODES = [("kadcast", False), ("kadcast+pull", True), ("nofec", False), ("flood", False)]
HERE = os.path.dirname(os.path.abspath(__file__))


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def sweep(topo, rng):
    from dusk_edge.sim.overlay_model import Run

    rows = []
    for size, reps in REPS.items():
        for loss in LOSSES:
            for label, pull in MODES:
                mode = "kadcast" if label.startswith("kadcast") else label
                runs = [Run(topo, rng, size, loss, mode=mode, pull_repair=pull)
                        .broadcast(rng.randrange(topo.n)).summary() for _ in range(reps)]
                row = {"size": size, "loss": loss, "mode": label, "runs": reps}
                for key in runs[0]:
                    row[key] = mean([r[key] for r in runs])
                row["coverage_min"] = min(r["coverage"] for r in runs)
                rows.append(row)
                print("  %7d B loss %.2f %-13s coverage %.5f bytes/node %9.0f latency %s ms hops %s"
                      % (size, loss, label, row["coverage"], row["bytes_per_node"],
                         row["latency_ms_mean"] and round(row["latency_ms_mean"]),
                         row["hops_mean"] and round(row["hops_mean"], 2)), flush=True)
    return rows


def uplink(topo, rng):
    """The sweep assumes unlimited uplinks (propagation delay only). Here every node's uplink is
    10 or 100 Mbps and serialises its datagrams: what a home staker's link does to latency."""
    from dusk_edge.sim.overlay_model import Run

    rows = []
    for bps in (10_000_000, 100_000_000):
        for size in (1024, 1 << 20):
            for mode in ("kadcast", "flood"):
                r = Run(topo, rng, size, 0.12, mode=mode, uplink_bps=bps).broadcast(rng.randrange(topo.n)).summary()
                r.update({"uplink_bps": bps, "size": size, "mode": mode, "loss": 0.12})
                rows.append(r)
                print("  uplink %d Mbps %7d B %-8s coverage %.5f latency mean %s ms max %s ms"
                      % (bps // 10 ** 6, size, mode, r["coverage"], r["latency_ms_mean"] and round(r["latency_ms_mean"]),
                         r["latency_ms_max"] and round(r["latency_ms_max"])), flush=True)
    return rows


def privacy(topo, rng):
    """Observers hold 10% of the nodes. Each origin broadcasts once as specified and once through
    the relay mode (paired, so the latency ratio compares like with like)."""
    from dusk_edge.sim.overlay_model import Run, guess_origin

    observers = set(rng.sample(range(topo.n), topo.n // 10))
    honest = [i for i in range(topo.n) if i not in observers]
    variants = (("as_specified", 0), ("relay_fastest8", 8), ("relay_fastest4", 4))
    tally = dict((label, {"hits": 0, "aware": 0, "lat": [], "lat_max": []}) for label, _ in variants)
    for _ in range(PRIVACY_BROADCASTS):
        origin = rng.choice(honest)
        for label, k in variants:
            run = Run(topo, rng, 1024, 0.12, relay=k > 0, relay_k=k or 8, observers=observers).broadcast(origin)
            tally[label]["hits"] += guess_origin(run, topo) == origin
            tally[label]["aware"] += guess_origin(run, topo, relay_aware=True, relay_k=k or 8) == origin
            summary = run.summary()
            tally[label]["lat"].append(summary["latency_ms_mean"])
            tally[label]["lat_max"].append(summary["latency_ms_max"])
    out = {}
    for label, t in tally.items():
        out[label] = {"accuracy": t["hits"] / PRIVACY_BROADCASTS,
                      "accuracy_relay_aware_observer": t["aware"] / PRIVACY_BROADCASTS,
                      "latency_ms_mean": mean(t["lat"]), "latency_ms_max_mean": mean(t["lat_max"]),
                      "broadcasts": PRIVACY_BROADCASTS}
    base = out["as_specified"]
    best_base = max(base["accuracy"], base["accuracy_relay_aware_observer"])
    for label, _ in variants[1:]:
        mit = out[label]
        best_mit = max(mit["accuracy"], mit["accuracy_relay_aware_observer"])
        mit["accuracy_ratio_vs_specified"] = best_mit / max(best_base, 1e-9)
        mit["latency_ratio_vs_specified"] = mit["latency_ms_mean"] / base["latency_ms_mean"]
        mit["max_latency_ratio_vs_specified"] = mit["latency_ms_max_mean"] / base["latency_ms_max_mean"]
    print("  privacy: %s" % out, flush=True)
    return out


def model_cross_check(rng):
    """The same 300-node topology run (a) by the model and (b) by real sans-I/O peers on the
    in-memory network; coverage and datagrams per node should agree."""
    from dusk_edge.core.kadcast.config import KadcastConfig
    from dusk_edge.core.kadcast.peer import Peer
    from dusk_edge.crypto.fec import make_fec
    from dusk_edge.sim.overlay_model import Run, Topology
    from dusk_edge.sim.overlay_net import OverlayNet

    n, loss, casts = 300, 0.12, 3 if QUICK else 6
    fec = make_fec("raptorq")
    cfg = KadcastConfig(pow_bits=8, pull_repair=False)
    peers = [Peer(bytes((10, 3, i >> 8, i & 255)), 9000, fec, rng, cfg) for i in range(n)]
    by_int = {int.from_bytes(p.id, "little"): p for p in peers}
    topo = Topology(n, rng, ids=list(by_int))
    ordered = [by_int[x] for x in topo.ids]
    net = OverlayNet(rng, loss=loss)
    for i, p in enumerate(ordered):
        for members in topo.tables[i].values():
            for j in members:
                q = ordered[j]
                p.table.insert_or_refresh(q.id, q.ip, q.port, 0)
        net.add(p, position=topo.pos[i])
    got = {}
    net.on_event = lambda addr, ev, now: got.setdefault(ev.ray_id, set()).add(addr)
    real_cov, real_dg = [], []
    for _ in range(casts):
        origin = rng.choice(ordered)
        before = sum(net.datagrams_sent.values())
        rid = net.call(origin, origin.broadcast, rng.randbytes(1024), None)
        net.run_until(net.now + 5000)
        real_cov.append(len(got.get(rid, ())) / (n - 1))
        real_dg.append((sum(net.datagrams_sent.values()) - before) / n)
    model = [Run(topo, rng, 1024, loss).broadcast(rng.randrange(n)).summary() for _ in range(casts)]
    out = {"nodes": n, "loss": loss, "broadcasts": casts,
           "real_core": {"coverage": mean(real_cov), "datagrams_per_node": mean(real_dg)},
           "model": {"coverage": mean([m["coverage"] for m in model]),
                     "datagrams_per_node": mean([m["datagrams_per_node"] for m in model])}}
    out["datagrams_ratio_model_vs_real"] = out["model"]["datagrams_per_node"] / out["real_core"]["datagrams_per_node"]
    print("  model cross-check: %s" % out, flush=True)
    return out


def fec_throughput(rng):
    from dusk_edge.core import _native, accel
    from dusk_edge.crypto.fec import make_fec, ray_id_of

    data = rng.randbytes(1 << 20)
    ray = ray_id_of(data)
    out = {}
    runs = 5

    def decode_all(fec, chunks):
        dec = None
        for c in chunks:
            _, key, parsed = fec.parse_chunk(c)
            dec = dec or fec.new_decoder(key)
            frame = dec.add(parsed)
            if frame is not None:
                return frame
        raise RuntimeError("did not decode")

    variants = [("raptorq", "raptorq", None), ("rs_c", "rs", accel.SPEEDUPS), ("rs_pure", "rs", _native)]
    for label, scheme, backend in variants:
        if backend is None and scheme == "rs":
            continue
        previous = accel.use(backend) if backend is not None else None
        try:
            fec = make_fec(scheme)
            chunks = fec.new_encoder(data, ray).initial_chunks()
            # every 10th chunk lost (10%, spread over every rs block), random arrival order:
            # repair symbols are needed, and decoding stops as soon as the frame is complete
            kept = [c for i, c in enumerate(chunks) if i % 10 != 3]
            rng.shuffle(kept)
            enc_ms = median_ms(lambda: fec.new_encoder(data, ray).initial_chunks(), runs=runs)
            dec_ms = median_ms(lambda: decode_all(fec, kept), runs=runs)
            assert decode_all(fec, kept) == data
        finally:
            if previous is not None:
                accel.use(previous)
        out[label] = {"encode_MBps": 1000 / enc_ms, "decode_MBps": 1000 / dec_ms,
                      "encode_ms": enc_ms, "decode_ms": dec_ms, "chunks": len(chunks)}
    base = out["raptorq"]
    for label, row in out.items():
        row["encode_ratio_vs_raptorq"] = row["encode_MBps"] / base["encode_MBps"]
        row["decode_ratio_vs_raptorq"] = row["decode_MBps"] / base["decode_MBps"]
    out["reception_overhead"] = reception_overhead(rng)
    print("  fec: %s" % out, flush=True)
    return out


def reception_overhead(rng):
    """Symbols received beyond K before decoding, over random arrival orders (100 KB frames)."""
    from dusk_edge.crypto.fec import make_fec, ray_id_of

    result = {}
    trials = 10 if QUICK else 40
    for scheme in ("raptorq", "rs"):
        fec = make_fec(scheme)
        extra = []
        for _ in range(trials):
            data = rng.randbytes(100_000)
            enc = fec.new_encoder(data, ray_id_of(data))
            chunks = enc.initial_chunks() + enc.fresh_chunks(0, 20, bytes(32))
            rng.shuffle(chunks)
            dec, k = None, -(-len(data) // 1296)
            for i, c in enumerate(chunks):
                _, key, parsed = fec.parse_chunk(c)
                dec = dec or fec.new_decoder(key)
                if dec.add(parsed) is not None:
                    extra.append(i + 1 - k)
                    break
        result[scheme] = {"mean_extra_symbols": statistics.mean(extra), "max_extra_symbols": max(extra),
                          "decoded_at_exactly_k": sum(1 for e in extra if e == 0) / len(extra), "trials": trials}
    return result


def plot(results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["sweep"]
    paths = []
    for metric, ylabel in (("coverage", "coverage"), ("bytes_per_node", "bytes sent per node"),
                           ("latency_ms_mean", "mean latency (ms)")):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, size in zip(axes, sorted(REPS)):
            for label, _ in MODES:
                pts = [(r["loss"], r[metric]) for r in rows if r["size"] == size and r["mode"] == label]
                ax.plot([p[0] * 100 for p in pts], [p[1] for p in pts], marker="o", label=label)
            ax.set_title("%s, %d nodes, %s" % (metric, results["nodes"], "1 KB" if size == 1024 else "1 MB"))
            ax.set_xlabel("loss (%)")
            ax.set_ylabel(ylabel)
            ax.grid(True, alpha=0.3)
            ax.legend()
        path = os.path.join(HERE, "results", "kadcast_%s.png" % metric)
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    fig, ax = plt.subplots(figsize=(6, 4))
    p = results["privacy"]
    keys = ["as_specified", "relay_fastest8", "relay_fastest4"]
    labels = ["as specified", "relay: 1 of 8 fastest", "relay: 1 of 4 fastest"]
    ax.bar(labels, [p[k]["accuracy"] for k in keys], label="latency observer")
    ax.bar(labels, [p[k]["accuracy_relay_aware_observer"] for k in keys], alpha=0.5, label="relay-aware observer")
    ax.set_ylabel("originator guessed correctly")
    ax.legend()
    path = os.path.join(HERE, "results", "kadcast_privacy.png")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    paths.append(path)
    return [os.path.relpath(x, os.path.dirname(HERE)) for x in paths]


def main():
    rng = random.Random(2026)
    from dusk_edge.sim.overlay_model import Topology

    t0 = time.time()
    topo = Topology(N, rng)
    print("  topology of %d nodes in %.1f s" % (N, time.time() - t0), flush=True)
    parts = os.environ.get("BENCH_KADCAST_PARTS", "")
    if parts:
        # re-run only some parts (comma-separated: fec, cross_check, privacy, sweep, uplink) and keep the
        # rest of the last bench/results/kadcast.json
        import json

        with open(os.path.join(HERE, "results", "kadcast.json")) as f:
            results = json.load(f)["results"]
        chosen = parts.split(",")
    else:
        results = {"nodes": N, "quick": QUICK, "model": "chunk-level (dusk_edge/sim/overlay_model.py)",
                   "delays_ms": "10 + 90 * distance / sqrt(2) on a unit square"}
        chosen = ["fec", "cross_check", "privacy", "sweep", "uplink"]
    steps = {"fec": lambda: fec_throughput(rng), "cross_check": lambda: model_cross_check(rng),
             "privacy": lambda: privacy(topo, rng), "sweep": lambda: sweep(topo, rng),
             "uplink": lambda: uplink(topo, rng)}
    keys = {"fec": "fec", "cross_check": "model_cross_check", "privacy": "privacy", "sweep": "sweep",
            "uplink": "uplink_limited"}
    for part in chosen:
        results[keys[part]] = steps[part]()
    for size in REPS:
        at12 = {r["mode"]: r for r in results["sweep"] if r["size"] == size and r["loss"] == 0.12}
        results["ratios_at_12pct_%s" % ("1KB" if size == 1024 else "1MB")] = {
            m: at12[m]["bytes_per_node"] / at12["flood"]["bytes_per_node"] for m in at12}
    results["plots"] = plot(results)
    print("  wrote %s" % write_results("kadcast", results))


if __name__ == "__main__":
    main()
