"""Ledger benchmarks -> bench/results/ledger.json.

1. Applying a block of 1,000 transfers (ms): BLS senders with the batched check vs one-by-one,
   Ed25519 senders, and the same block with signature checks skipped (the baseline).
2. state_hash update cost per changed account at 10k vs 1M accounts (the tree behind state_hash):
   SHA3 calls and microseconds per changed account; ratio 1M/10k against log2 growth; baseline a
   full rehash of every leaf at the same size.
3. Mempool with 10,000 transactions: insert and select throughput (tx/s), with real Ed25519
   signature checks and with checks skipped (the pool's own cost).
"""
import math
import random
import time
from functools import partial

from bench.common import median_ms, write_results
from dusk_edge.core.consensus.attestation import (
    RESULT_SUCCESS,
    VOTE_VALID,
    Attestation,
    StepVotes,
    Vote,
)
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.ledger.block import Block
from dusk_edge.core.ledger.header import Header
from dusk_edge.core.ledger.mempool import Mempool
from dusk_edge.core.ledger.profile import DUSK, NetworkProfile
from dusk_edge.core.ledger.signatures import NativeVerifier
from dusk_edge.core.ledger.state import State
from dusk_edge.core.ledger.state_tree import IncrementalMerkleTree
from dusk_edge.core.ledger.tx_builder import BlsSigner, Ed25519Signer, build_transfer
from dusk_edge.core.merkle import compute_merkle_root
from dusk_edge.crypto import bls

RUNS = 5
CHAIN = 0x41


class SkipSignatures:
    """Baseline verifier: every signature passes (isolates the state transition's own cost)."""

    def verify_batch(self, checks):
        return -1

    def verify_multisig(self, pk, msg, sig):
        return True


def funded_state(signers):
    profile = NetworkProfile.devnet()
    state = State(profile, Ed25519Signer(b"\xfe" * 32).account_key)
    for s in signers:
        state.credit(s.account_key, 10**6 * DUSK)
        state.genesis_supply += 10**6 * DUSK
    state.state_hash()
    return state


def transfer_block(state, signers, per_sender):
    rx = Ed25519Signer(b"\xfd" * 32).account_key
    txs = [build_transfer(s, rx, 1 + n, n, CHAIN) for n in range(1, per_sender + 1) for s in signers]
    cert = Attestation(RESULT_SUCCESS, Vote(VOTE_VALID, state.tip_hash), StepVotes(1, bytes(48)), StepVotes(1, bytes(48)))
    header = Header(height=1, prev_block_hash=state.tip_hash, generator_bls_pubkey=signers[0].account_key.key
                    if signers[0].account_key.scheme == 0 else bls.public_key(bls.secret_key_from_int(7)),
                    prev_block_cert=cert)
    return Block(header, txs).fill_roots()


def bench_block_apply():
    out = {}
    voters = [(bls.public_key(bls.secret_key_from_int(7)), 128)]
    ed = [Ed25519Signer(i.to_bytes(32, "little")) for i in range(1, 101)]
    bl = [BlsSigner(bls.secret_key_from_int(50000 + i)) for i in range(1, 101)]
    for name, signers in (("ed25519", ed), ("bls", bl)):
        state = funded_state(signers)
        block = transfer_block(state, signers, 10)
        assert len(block.transactions) == 1000
        verifiers = {"checked": NativeVerifier(), "skip_signatures": SkipSignatures()}
        if name == "bls":
            verifiers["checked_one_by_one"] = NativeVerifier(batch_bls=False)
        for vname, verifier in verifiers.items():
            run = partial(state.preview_block, block, verifier, voters)
            out["%s_%s_ms" % (name, vname)] = median_ms(run, runs=RUNS)
    base = out["ed25519_skip_signatures_ms"]
    out["ratio_bls_batched_vs_one_by_one"] = out["bls_checked_ms"] / out["bls_checked_one_by_one_ms"]
    out["ratio_bls_vs_ed25519"] = out["bls_checked_ms"] / out["ed25519_checked_ms"]
    out["ratio_ed25519_vs_no_signature_checks"] = out["ed25519_checked_ms"] / base
    out["ratio_bls_vs_no_signature_checks"] = out["bls_checked_ms"] / base
    out["transactions"] = 1000
    return out


def build_tree(n):
    tree = IncrementalMerkleTree()
    for i in range(n):
        tree.set(i, sha3_256(i.to_bytes(8, "little")))
    tree.root()
    return tree


def update_batch(tree, keys):
    for k in keys:
        tree.set(k, sha3_256(k.to_bytes(8, "little") + b"b"))
    tree.root()


def fill_pool(profile, verifier, capacity, txs, state, pools):
    pool = Mempool(profile, verifier, capacity=capacity)
    for tx in txs:
        pool.add(tx, state, 0)
    pools.append(pool)


def bench_state_hash(sizes=(10000, 1000000), changes=200):
    """Both trees are built first and measured in alternation, so machine load hits both alike."""
    out = {}
    rng = random.Random(5)
    trees = {n: build_tree(n) for n in sizes}
    samples = {n: [] for n in sizes}
    hashes = {n: [] for n in sizes}
    for run in range(RUNS):
        for n in sizes:
            tree = trees[n]
            keys = [rng.randrange(n) for _ in range(changes)]
            leaves = [sha3_256(b"%d-%d" % (run, k)) for k in keys]
            before = tree.hash_count
            t0 = time.perf_counter()
            for key, leaf in zip(keys, leaves, strict=True):
                tree.set(key, leaf)
                tree.root()  # one changed account per update: the per-account path cost
            samples[n].append((time.perf_counter() - t0) * 1e6 / changes)
            hashes[n].append((tree.hash_count - before) / changes)
    for n in sizes:
        out["us_per_changed_account_%d" % n] = sorted(samples[n])[len(samples[n]) // 2]
        out["sha3_per_changed_account_%d" % n] = sorted(hashes[n])[len(hashes[n]) // 2]
        # a block-sized batch: 2,000 changed accounts (1,000 transfers), one root
        keys = [rng.randrange(n) for _ in range(2000)]
        out["block_of_2000_changes_ms_%d" % n] = median_ms(partial(update_batch, trees[n], keys), runs=RUNS)
    small, large = sizes
    # baseline: rehashing every leaf from scratch, as a non-incremental state root would
    out["full_rehash_ms_%d" % small] = median_ms(partial(compute_merkle_root, trees[small].leaves()), runs=RUNS)
    out["ratio_incremental_vs_full_rehash_%d" % small] = (
        out["us_per_changed_account_%d" % small] / 1000.0 / out["full_rehash_ms_%d" % small])
    out["ratio_time_large_vs_small"] = (out["us_per_changed_account_%d" % large]
                                        / out["us_per_changed_account_%d" % small])
    out["ratio_sha3_large_vs_small"] = (out["sha3_per_changed_account_%d" % large]
                                        / out["sha3_per_changed_account_%d" % small])
    out["ratio_log2_large_vs_small"] = math.log2(large) / math.log2(small)
    return out


def bench_mempool(count=10000, senders=1000):
    signers = [Ed25519Signer((100000 + i).to_bytes(32, "little")) for i in range(senders)]
    state = funded_state(signers)
    rx = Ed25519Signer(b"\xfc" * 32).account_key
    per = count // senders
    rng = random.Random(9)
    txs = [build_transfer(s, rx, 1, n, CHAIN, gas_price=rng.randrange(1, 50)) for n in range(1, per + 1) for s in signers]
    rng.shuffle(txs)
    out = {"transactions": len(txs)}
    for name, verifier in (("checked", NativeVerifier()), ("skip_signatures", SkipSignatures())):
        pools = []
        ms = median_ms(partial(fill_pool, state.profile, verifier, count, txs, state, pools), runs=RUNS)
        out["insert_%s_tx_per_s" % name] = len(txs) / (ms / 1000.0)
        pool = pools[-1]
        ms_block = median_ms(partial(pool.select, state), runs=RUNS)
        ms_all = median_ms(partial(pool.select, state, count), runs=RUNS)
        out["select_block_of_1000_ms"] = ms_block
        out["select_all_tx_per_s"] = len(txs) / (ms_all / 1000.0)
    out["ratio_insert_checked_vs_pool_only"] = out["insert_checked_tx_per_s"] / out["insert_skip_signatures_tx_per_s"]
    out["ratio_select_vs_insert_pool_only"] = out["select_all_tx_per_s"] / out["insert_skip_signatures_tx_per_s"]
    return out


def main():
    results = {}
    for name, fn in (("block_apply", bench_block_apply), ("state_hash", bench_state_hash), ("mempool", bench_mempool)):
        t0 = time.time()
        results[name] = fn()
        print("%s (%.0f s): %s" % (name, time.time() - t0, results[name]), flush=True)
    print("wrote", write_results("ledger", results))


if __name__ == "__main__":
    main()
