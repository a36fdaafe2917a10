"""Four provisioners running the unchanged ConsensusEngine with a hash-based stand-in for BLS, in
plain code that also runs on MicroPython (tests/test_consensus_micropython.py runs it under the real
MicroPython 1.27 wasm port). Uses the simulation chain in stand-in mode (ledger=False)."""
from dusk_edge.core.consensus.engine import ConsensusEngine
from dusk_edge.core.consensus.messages import decode_message, encode_message
from dusk_edge.core.consensus.sortition import DUSK
from dusk_edge.core.consensus.timeouts import Timing
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.ledger.block import pull_block, push_block

try:
    from dusk_edge.sim.consensus_chain import SimChain
except ImportError:  # MicroPython: the runner puts the chain module beside this one
    from sim_chain import SimChain

LINK_DELAY_MS = 50


def _sign(pk, message):
    digest = sha3_256(bytes(pk) + bytes(message))
    return digest + sha3_256(digest)[:16]


def _xor(a, b):
    return bytes([x ^ y for x, y in zip(a, b)])


class HashVerifier:
    def verify_multisig(self, pks, message, signature):
        total = bytes(48)
        for pk in pks:
            total = _xor(total, _sign(pk, message))
        return total == bytes(signature)

    def aggregate_signatures(self, signatures):
        total = bytes(48)
        for sig in signatures:
            total = _xor(total, sig)
        return total


class HashSigner:
    def __init__(self, pk):
        self.pk = pk

    def public_key(self):
        return self.pk

    def sign_vote(self, round_, iteration, step, message):
        return _sign(self.pk, message)

    def sign_candidate(self, round_, iteration, block_hash):
        return _sign(self.pk, block_hash)

    def sign_seed(self, round_, prev_seed):
        return _sign(self.pk, prev_seed)


def _deliver_outgoing(engines, now, queue):
    for index in range(len(engines)):
        engine = engines[index]
        for msg in engine.take_outgoing():
            data = encode_message(msg, push_block)
            for peer in range(len(engines)):
                if peer != index:
                    queue.append((now + LINK_DELAY_MS, peer, data))
        engine.take_events()


def run_four_nodes(final_height=3, max_steps=4000):
    """Returns (virtual ms, [Final hash at final_height per node])."""
    timing = Timing(5)
    pks = [sha3_256(bytes([i])) * 3 for i in range(4)]
    provisioners = [(pks[i], (1000 + 700 * i) * DUSK, 0) for i in range(4)]
    verifier = HashVerifier()
    engines = [ConsensusEngine(SimChain(provisioners, bytes(48), verifier, timing, ledger=False),
                               HashSigner(pks[i]), verifier, timing) for i in range(4)]
    now = 0
    queue = []
    for engine in engines:
        engine.on_start(now)
    for _ in range(max_steps):
        _deliver_outgoing(engines, now, queue)
        if min([e.chain.finality.last_final for e in engines]) >= final_height:
            break
        deadlines = [e.get_timer() for e in engines if e.get_timer() is not None]
        now = min([q[0] for q in queue] + deadlines)
        due = [q for q in queue if q[0] <= now]
        queue = [q for q in queue if q[0] > now]
        for _at, peer, data in due:
            engines[peer].on_message(decode_message(data, pull_block), now)
        for engine in engines:
            engine.on_timer(now)
    return now, [e.chain.final_hashes.get(final_height) for e in engines]


def test_four_nodes_finalize():
    now, finals = run_four_nodes()
    if finals[0] is None or finals.count(finals[0]) != 4:
        raise AssertionError("no common Final block at height 3 after %d ms" % now)
    print("four nodes: common Final block at height 3 after %d virtual ms" % now)
