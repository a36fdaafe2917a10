"""Generate tests/vectors/{sortition_hash,sortition_score,committee,generator,step_timeout,
rolling_finality}/*.json from an independent tiny implementation written from the PROTOCOL.md §3.5,
§3.9 and §4 text and the CONFORMANCE.md rules. It imports nothing from dusk_edge: hashes come from
hashlib, public keys of the reference fixture from py_ecc. Run: python tests/vectors/_gen/gen_consensus.py
"""
import hashlib
import json
import os
import random
from collections import Counter

from py_ecc.bls.point_compression import compress_G2
from py_ecc.optimized_bls12_381 import G2, multiply

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
DUSK = 10 ** 9
SOURCE = "tests/vectors/_gen/gen_consensus.py (independent sketch of PROTOCOL.md §4/§3.5/§3.9)"
REF = "PROTOCOL.md §4 (rusk consensus/src/user/sortition.rs tests)"

FIXTURE_SKS = """7f6f2ccdb23f2abb7b69278e947c01c6160a31cf02c19d06d0f6e5ab1d768b15
611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c
1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e
ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d
e463bcb1a6e57288ffd4671503082fa8656e3eacb78fb1925f8a7c76400e8e15
7a19fb2d099a9557f7c10c2efbb8b101d9e0ec85610d5c74a887d1d4fb8d2827
4dbad51eb408af559dd91bbbed8dbeae0a2c89e0e05f0cce87c98652a8437f1f
befba86ae9e0c207865f7e24e8349d4ecdbc8b0f4632842499a0dfa60568e20a
b260b8a10343bf5a5dacb4f1d32d06c4fdddc9981a3619fbc0a5cd9eb30f3334
87a9779748888da5d96bbbce041b5109c6ffc0c4f30561c0170384a5922d9e21""".split()


def g2_pk(sk_hex):
    z1, z2 = compress_G2(multiply(G2, int.from_bytes(bytes.fromhex(sk_hex), "little")))
    return z1.to_bytes(48, "big") + z2.to_bytes(48, "big")


def fixture(n):
    """generate_provisioners(n): keys 1..n-1 with 1000*i DUSK, eligible since 0."""
    return [{"public_key": g2_pk(FIXTURE_SKS[i]).hex(), "stake": 1000 * i * DUSK, "eligible_since": 0}
            for i in range(1, n)]


def s_hash(seed, step, counter):
    return hashlib.sha3_256(seed + bytes([step]) + counter.to_bytes(4, "little")).digest()


def committee(provs, seed, step, credits, exclusion=(), rnd=0):
    el = {bytes.fromhex(p["public_key"]): p["stake"] for p in provs
          if p["eligible_since"] <= rnd and p["stake"] >= 1000 * DUSK}
    if len(el) > 1 and exclusion:
        el = {pk: v for pk, v in el.items() if pk not in exclusion}
    order, W, out = sorted(el), sum(el.values()), []
    while len(out) != credits:
        s = int.from_bytes(s_hash(seed, step, len(out)), "big") % W
        for pk in order:
            if el[pk] >= s:
                break
            s -= el[pk]
        d = min(el[pk], DUSK)
        el[pk] -= d
        out.append(pk)
        if W > d:
            W -= d
        else:
            break
    c = Counter(out)
    return [{"public_key": pk.hex(), "credits": c[pk]} for pk in sorted(c)]


def generator(provs, seed, rnd, iteration):
    return committee(provs, seed, iteration * 3, 1, (), rnd)[0]["public_key"]


def step_timeout(ms):
    ms = ms[-5:]
    if not ms:
        return 40
    avg_ns = sum(ms) * 1_000_000 // len(ms)
    secs = avg_ns // 10 ** 9 + (1 if (avg_ns % 10 ** 9) // 10 ** 6 > 0 else 0)
    return max(7, min(40, secs))


def rolling(blocks):
    labels = {0: ["final", 0]}
    for h, b in enumerate(blocks, 1):
        pni = min(b["iteration"], 50) - b["failed_attested"]
        if pni != 0:
            labels[h] = ["accepted", 2 * pni]
            continue
        labels[h] = ["attested", 1]
        stable, k = 1, h - 1
        while labels[k][0] != "final":
            kind, c = labels[k]
            if kind == "confirmed":
                stable += 1
            elif stable >= c:
                labels[k] = ["confirmed", h - k]
                stable += 1
            else:
                break
            k -= 1
        k = max(x for x in labels if labels[x][0] == "final") + 1
        while k < h and labels[k][0] == "confirmed":
            labels[k] = ["final", h - k]
            k += 1
    return [{"label": labels[h][0], "value": labels[h][1]} for h in range(1, len(blocks) + 1)]


def write(suite, name, cases, source=SOURCE):
    os.makedirs(os.path.join(OUT, suite), exist_ok=True)
    with open(os.path.join(OUT, suite, name + ".json"), "w") as f:
        json.dump({"suite": suite, "source": source, "cases": cases}, f, indent=1)
        f.write("\n")


def random_provs(rng, n, rnd):
    out = []
    for _ in range(n):
        stake = rng.choice([rng.randrange(1000, 200000) * DUSK + rng.randrange(DUSK),
                            rng.randrange(1, 1000) * DUSK, 1000 * DUSK, 1000 * DUSK - 1])
        out.append({"public_key": rng.randbytes(96).hex(), "stake": stake,
                    "eligible_since": rng.choice([0, 0, rnd, rnd + 1, rnd + 2160])})
    if not any(p["stake"] >= 1000 * DUSK and p["eligible_since"] <= rnd for p in out):
        out[0]["stake"], out[0]["eligible_since"] = 5000 * DUSK, 0
    return out


def main():
    rng = random.Random(20261124)
    # sortition_hash / sortition_score: the reference values, then generated ones.
    ref_hash = bytes([74, 64, 238, 174, 226, 52, 11, 105, 93, 251, 204, 6, 137, 176, 14, 96, 77, 139,
                      92, 76, 7, 178, 38, 16, 132, 233, 13, 180, 78, 206, 204, 31])
    assert s_hash(bytes([3] * 48), 3, 1) == ref_hash
    write("sortition_hash", "reference", [
        {"name": "rusk-seed3-step3-counter1", "input": {"seed": "03" * 48, "step": 3, "counter": 1},
         "output": {"hash": ref_hash.hex()}}], REF)
    cases = []
    for i in range(12):
        seed, step, counter = rng.randbytes(48), rng.randrange(256), rng.choice([0, 1, 63, 2 ** 32 - 1, rng.randrange(2 ** 32)])
        cases.append({"name": "gen-%d" % i, "input": {"seed": seed.hex(), "step": step, "counter": counter},
                      "output": {"hash": s_hash(seed, step, counter).hex()}})
    cases += [
        {"name": "err-short-seed", "input": {"seed": "00" * 47, "step": 0, "counter": 0}, "output": {"error": True}},
        {"name": "err-step-256", "input": {"seed": "00" * 48, "step": 256, "counter": 0}, "output": {"error": True}},
        {"name": "err-counter-2-32", "input": {"seed": "00" * 48, "step": 0, "counter": 2 ** 32}, "output": {"error": True}},
        {"name": "err-not-hex", "input": {"seed": "zz" * 48, "step": 0, "counter": 0}, "output": {"error": True}},
    ]
    write("sortition_hash", "generated", cases)

    h4 = s_hash(bytes([4] * 48), 3, 1)
    write("sortition_score", "reference", [
        {"name": "rusk-seed3-w123342342", "input": {"hash": ref_hash.hex(), "total_weight": 123342342},
         "output": {"score": 80689917}},
        {"name": "rusk-seed4-w44443333", "input": {"hash": h4.hex(), "total_weight": 44443333},
         "output": {"score": 20330495}}], REF)
    cases = []
    for i in range(10):
        h, w = rng.randbytes(32), rng.choice([1, 2, rng.randrange(10 ** 12), rng.randrange(2 ** 64), 2 ** 256 + 7])
        cases.append({"name": "gen-%d" % i, "input": {"hash": h.hex(), "total_weight": w},
                      "output": {"score": int.from_bytes(h, "big") % w}})
    cases.append({"name": "err-zero-weight", "input": {"hash": "11" * 32, "total_weight": 0}, "output": {"error": True}})
    cases.append({"name": "err-short-hash", "input": {"hash": "11" * 31, "total_weight": 5}, "output": {"error": True}})
    write("sortition_score", "generated", cases)

    # committee: the reference fixture, then generated sets.
    f5 = fixture(5)
    ref = committee(f5, bytes(48), 1, 64)
    assert [m["credits"] for m in ref] == [4, 29, 9, 22]
    write("committee", "reference", [
        {"name": "test_deterministic_sortition_1", "input": {"provisioners": f5, "seed": "00" * 48, "round": 0,
                                                             "step": 1, "credits": 64, "exclusion": []},
         "output": {"members": ref}}], REF)
    f10 = fixture(10)
    cases = []
    for i in range(14):
        if i < 4:
            provs, rnd = f10, rng.randrange(100)
        else:
            rnd = rng.randrange(5000)
            provs = random_provs(rng, rng.randrange(1, 40), rnd)
        seed, step = rng.randbytes(48), rng.randrange(150)
        credits = rng.choice([1, 64, 64, 3])
        eligible = sorted(p["public_key"] for p in provs
                          if p["stake"] >= 1000 * DUSK and p["eligible_since"] <= rnd)
        excl = rng.sample(eligible, min(len(eligible), rng.choice([0, 1, 2]))) if len(eligible) > 2 else []
        cases.append({"name": "gen-%d" % i, "input": {"provisioners": provs, "seed": seed.hex(), "round": rnd,
                                                      "step": step, "credits": credits, "exclusion": excl},
                      "output": {"members": committee(provs, seed, step, credits, [bytes.fromhex(x) for x in excl], rnd)}})
    one = [{"public_key": "ab" * 96, "stake": 1000 * DUSK, "eligible_since": 0}]
    cases.append({"name": "partial-one-provisioner-1001-credits",
                  "input": {"provisioners": one, "seed": "00" * 48, "round": 0, "step": 1, "credits": 1001,
                            "exclusion": []},
                  "output": {"members": committee(one, bytes(48), 1, 1001)}})
    cases.append({"name": "exclusion-ignored-single-eligible",
                  "input": {"provisioners": one, "seed": "00" * 48, "round": 0, "step": 1, "credits": 64,
                            "exclusion": ["ab" * 96]},
                  "output": {"members": committee(one, bytes(48), 1, 64, [bytes.fromhex("ab" * 96)])}})
    base = {"seed": "00" * 48, "round": 0, "step": 1, "credits": 64, "exclusion": []}
    low = [{"public_key": "cd" * 96, "stake": 1000 * DUSK - 1, "eligible_since": 0}]
    late = [{"public_key": "cd" * 96, "stake": 5000 * DUSK, "eligible_since": 1}]
    for name, provs in (("err-empty", []), ("err-below-minimum", low), ("err-not-yet-eligible", late),
                        ("err-duplicate-key", one + one),
                        ("err-short-key", [{"public_key": "ab" * 95, "stake": 10 ** 13, "eligible_since": 0}])):
        inp = dict(base)
        inp["provisioners"] = provs
        cases.append({"name": name, "input": inp, "output": {"error": True}})
    write("committee", "generated", cases)

    # generator
    cases = [{"name": "fixture10-iter%d" % it, "input": {"provisioners": f10, "seed": "00" * 48, "round": 1,
                                                          "iteration": it},
              "output": {"public_key": generator(f10, bytes(48), 1, it)}} for it in (0, 1, 2, 15, 16, 49)]
    for i in range(8):
        rnd = rng.randrange(5000)
        provs, seed, it = random_provs(rng, rng.randrange(1, 30), rnd), rng.randbytes(48), rng.randrange(50)
        cases.append({"name": "gen-%d" % i, "input": {"provisioners": provs, "seed": seed.hex(), "round": rnd,
                                                      "iteration": it},
                      "output": {"public_key": generator(provs, seed, rnd, it)}})
    for name, it, provs in (("err-iteration-50", 50, f10), ("err-iteration-255", 255, f10), ("err-empty", 0, []),
                            ("err-none-eligible", 0, late)):
        cases.append({"name": name, "input": {"provisioners": provs, "seed": "00" * 48, "round": 0, "iteration": it},
                      "output": {"error": True}})
    write("generator", "generated", cases)

    # step_timeout
    fixed = [("none", []), ("8000.5ms-rounds-down", [8000, 8001]), ("8001ms-rounds-up", [8001]),
             ("exact-9s", [9000]), ("below-min", [10, 20]), ("above-max", [50000, 90000]),
             ("last-five-only", [40000, 40000, 8000, 8000, 8000, 8000, 8000]), ("sub-ms-remainder", [7000, 7000, 7001]),
             ("min-edge", [7000]), ("max-edge", [40000]), ("max-edge-plus-1", [40001]), ("zero", [0])]
    cases = [{"name": n, "input": {"elapsed_ms": v}, "output": {"timeout_s": step_timeout(v)}} for n, v in fixed]
    for i in range(10):
        v = [rng.randrange(0, 50000) for _ in range(rng.randrange(1, 9))]
        cases.append({"name": "gen-%d" % i, "input": {"elapsed_ms": v}, "output": {"timeout_s": step_timeout(v)}})
    cases.append({"name": "err-negative", "input": {"elapsed_ms": [-1]}, "output": {"error": True}})
    cases.append({"name": "err-not-int", "input": {"elapsed_ms": [1.5]}, "output": {"error": True}})
    write("step_timeout", "generated", cases, SOURCE + "; rounding rule of CONFORMANCE.md")

    # rolling_finality
    fixed = [("all-iteration-0", [(0, 0)] * 5), ("one-block", [(0, 0)]),
             ("iter1-unattested", [(0, 0), (1, 0), (0, 0), (0, 0), (0, 0)]),
             ("iter1-attested", [(0, 0), (1, 1), (0, 0)]),
             ("iter3-partly-attested", [(0, 0), (3, 1), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)]),
             ("two-accepted-in-a-row", [(2, 0), (1, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)]),
             ("emergency-iteration-255", [(0, 0), (255, 8), (0, 0)] + [(0, 0)] * 90)]
    cases = []
    for n, bl in fixed:
        blocks = [{"iteration": a, "failed_attested": b} for a, b in bl]
        cases.append({"name": n, "input": {"blocks": blocks}, "output": {"labels": rolling(blocks)}})
    for i in range(10):
        blocks = []
        for _ in range(rng.randrange(1, 25)):
            it = rng.choice([0, 0, 0, 1, 2, 5, 17])
            blocks.append({"iteration": it, "failed_attested": rng.randrange(min(it, 8) + 1)})
        cases.append({"name": "gen-%d" % i, "input": {"blocks": blocks}, "output": {"labels": rolling(blocks)}})
    cases.append({"name": "err-attested-above-iteration", "input": {"blocks": [{"iteration": 1, "failed_attested": 2}]},
                  "output": {"error": True}})
    cases.append({"name": "err-negative-iteration", "input": {"blocks": [{"iteration": -1, "failed_attested": 0}]},
                  "output": {"error": True}})
    write("rolling_finality", "generated", cases, SOURCE + "; labels of PROTOCOL.md §3.9")


if __name__ == "__main__":
    main()
