"""Consensus simulation: N provisioners running the real ConsensusEngine over an in-memory message
bus with loss, delays, partitions, crashes and Byzantine behaviours, driven by a virtual clock.

Every message crosses the bus as encoded bytes (rusk envelope + payload) and is decoded by the
receiver, so the codecs run too. A "broadcast" reaches every other node independently (each copy
may be lost or delayed): the Kadcast overlay is simulated elsewhere. A node that falls behind asks
a random reachable peer for the blocks above its tip (a stand-in for GetBlocks).

    python -m dusk_edge.sim.consensus_sim --short      # 16 nodes, a few rounds, prints a summary
"""
import heapq
import random
import sys

from dusk_edge.core.consensus.attestation import VOTE_INVALID, VOTE_NO_CANDIDATE, VOTE_VALID, Vote
from dusk_edge.core.consensus.messages import (
    TOPIC_CANDIDATE,
    TOPIC_RATIFICATION,
    TOPIC_VALIDATION,
    Ratification,
    SignInfo,
    Validation,
    decode_message,
    encode_message,
)
from dusk_edge.core.consensus.engine import ConsensusEngine
from dusk_edge.core.consensus.sortition import DUSK
from dusk_edge.core.consensus.timeouts import Timing
from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.core.ledger.block import pull_block, push_block
from dusk_edge.sim.consensus_chain import SimChain
from dusk_edge.sim.fake_bls import BlsSigner, FakeBls, FakeSigner, RealVerifier, fake_public_key

HONEST = "honest"
SILENT = "silent"            # never sends anything
EQUIVOCATE = "equivocate"    # sends conflicting votes and a second candidate to half of the network
INVALID = "invalid"          # proposes candidates with a wrong state transition


class SimNode:
    __slots__ = ("index", "pk", "engine", "chain", "signer", "behaviour", "online", "timer_at",
                 "syncing")

    def __init__(self, index, pk, engine, chain, signer, behaviour):
        self.index = index
        self.pk = pk
        self.engine = engine
        self.chain = chain
        self.signer = signer
        self.behaviour = behaviour
        self.online = True
        self.timer_at = None
        self.syncing = False


class InvalidProposalChain(SimChain):
    """A Byzantine generator's chain: its candidates claim a wrong state root."""

    def build_candidate(self, *args):
        block = SimChain.build_candidate(self, *args)
        block.header.state_hash = bytes(32)
        return block.fill_roots()


class ConsensusSim:
    """A network of ``n`` provisioners. ``stakes`` in DUSK (unequal by default)."""

    def __init__(self, n=16, seed=1, real_bls=False, time_scale=5, loss=0.0, delay_ms=(20, 120),
                 stakes=None, behaviours=None, emergency_node=None, ledger=True):
        self.rng = random.Random(seed)
        self.now = 0
        self.queue = []
        self.seq = 0
        self.loss = loss
        self.delay_ms = delay_ms
        self.partition = None
        self.drop_filter = None
        self.timing = Timing(time_scale)
        self.verifier = RealVerifier() if real_bls else FakeBls()
        self.sent = 0
        self.delivered = 0
        self.proposed_at = {}
        if stakes is None:
            stakes = [1000 + 500 * ((i * 7) % 11) for i in range(n)]
        signers = []
        for i in range(n):
            if real_bls:
                from dusk_edge.crypto import bls
                signers.append(BlsSigner(bls.secret_key_from_int(1000 + i)))
            else:
                signers.append(FakeSigner(fake_public_key(i)))
        self.provisioners = [(signers[i].public_key(), stakes[i] * DUSK, 0) for i in range(n)]
        self.emergency_signer = signers[0] if emergency_node is not None else None
        behaviours = behaviours or {}
        self.nodes = []
        for i in range(n):
            behaviour = behaviours.get(i, HONEST)
            chain_class = InvalidProposalChain if behaviour == INVALID else SimChain
            chain = chain_class(self.provisioners, bytes(48), self.verifier, self.timing, ledger=ledger)
            engine = ConsensusEngine(chain, signers[i], self.verifier, self.timing,
                                     emergency_key=signers[0].public_key(),
                                     emergency_signer=self.emergency_signer if i == emergency_node else None)
            self.nodes.append(SimNode(i, signers[i].public_key(), engine, chain, signers[i], behaviour))

    # event loop -------------------------------------------------------------------------------
    def push(self, at, kind, node, payload=None):
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, node, payload))

    def start(self):
        for node in self.nodes:
            node.engine.on_start(self.now)
            self.flush(node)

    def run_until(self, deadline_ms, stop=None):
        """Process events up to ``deadline_ms`` (virtual); ``stop()`` True ends early."""
        while self.queue and self.queue[0][0] <= deadline_ms:
            at, _seq, kind, index, payload = heapq.heappop(self.queue)
            self.now = at
            node = self.nodes[index]
            if not node.online:
                continue
            if kind == "timer":
                if node.timer_at != at:
                    continue
                node.timer_at = None
                node.engine.on_timer(at)
            elif kind == "msg":
                self.deliver(node, payload)
            elif kind == "sync":
                self.serve_sync(node, payload)
            self.flush(node)
            if stop is not None and stop():
                return True
        self.now = max(self.now, deadline_ms)
        return False

    def deliver(self, node, data):
        self.delivered += 1
        try:
            msg = decode_message(data, pull_block)
        except DuskEdgeError:
            return
        node.engine.on_message(msg, self.now)

    def flush(self, node):
        engine = node.engine
        for msg in engine.take_outgoing():
            self.broadcast(node, msg)
        for event in engine.take_events():
            self.on_event(node, event)
        deadline = engine.get_timer()
        if deadline is not None and deadline != node.timer_at:
            node.timer_at = deadline
            self.push(max(deadline, self.now), "timer", node.index)

    def on_event(self, node, event):
        kind = event[0]
        if kind == "candidate":
            self.proposed_at.setdefault((event[1], event[2]), event[3])
        elif kind in ("sync", "need_candidate") and not node.syncing:
            node.syncing = True
            self.push(self.now + self.delay(), "sync", node.index, None)

    # the bus ----------------------------------------------------------------------------------
    def delay(self):
        return self.rng.randint(self.delay_ms[0], self.delay_ms[1])

    def reachable(self, a, b):
        if self.partition is None:
            return True
        return self.partition[a] == self.partition[b]

    def broadcast(self, node, msg):
        if node.behaviour == SILENT:
            return
        if node.behaviour == EQUIVOCATE and msg.topic in (TOPIC_VALIDATION, TOPIC_RATIFICATION):
            self.equivocate(node, msg)
            return
        if node.behaviour == EQUIVOCATE and msg.topic == TOPIC_CANDIDATE:
            self.double_candidate(node, msg)
            return
        data = encode_message(msg, push_block)
        self.send_to_all(node, lambda _peer: data, msg)

    def send_to_all(self, node, data_for, msg):
        for peer in self.nodes:
            if peer is node or not self.reachable(node.index, peer.index):
                continue
            if self.drop_filter is not None and self.drop_filter(node, peer, msg):
                continue
            if self.loss and self.rng.random() < self.loss:
                continue
            self.sent += 1
            self.push(self.now + self.delay(), "msg", peer.index, data_for(peer))

    def equivocate(self, node, msg):
        """Everyone gets the honest vote; half the peers also get a conflicting one (as relaying
        would spread both)."""
        other = conflicting_vote(msg.vote)
        header = msg.header
        signable = header.encode() + bytes([1 if msg.topic == TOPIC_VALIDATION else 2]) + other.encode()
        sig = node.signer.sign_vote(header.round, header.iteration, msg.topic - 16, signable)
        if msg.topic == TOPIC_VALIDATION:
            twin = Validation(header, other, SignInfo(node.pk, sig))
        else:
            twin = Ratification(header, other, msg.timestamp, msg.validation_result, SignInfo(node.pk, sig))
        honest = encode_message(msg, push_block)
        evil = encode_message(twin, push_block)
        self.send_to_all(node, lambda peer: honest, msg)
        self.send_to_all(node, lambda peer: evil if peer.index % 2 else honest, twin)

    def double_candidate(self, node, msg):
        """A second, differently timed candidate for the same slot, signed, to half the peers."""
        honest = encode_message(msg, push_block)
        twin = decode_message(honest, pull_block)
        header = twin.block.header
        header.timestamp += 1
        header.seal()
        header.signature = node.signer.sign_candidate(header.height, header.iteration, header.hash)
        evil = encode_message(twin, push_block)
        self.send_to_all(node, lambda peer: honest, msg)
        self.send_to_all(node, lambda peer: evil if peer.index % 2 else honest, twin)

    def serve_sync(self, node, _payload):
        """Feed blocks above our tip from a random reachable peer that has them."""
        node.syncing = False
        peers = [p for p in self.nodes if p is not node and p.online and self.reachable(node.index, p.index)]
        self.rng.shuffle(peers)
        tip = node.chain.tip_header().height
        for peer in peers[:3]:
            if peer.chain.tip_header().height > tip:
                for height in range(tip + 1, min(peer.chain.tip_header().height, tip + 10) + 1):
                    node.engine.on_block(peer.chain.blocks[height], self.now)
                return

    # scenario controls ------------------------------------------------------------------------
    def set_partition(self, groups):
        """``groups``: list of node index lists; None heals."""
        if groups is None:
            self.partition = None
            return
        self.partition = {}
        for g, members in enumerate(groups):
            for i in members:
                self.partition[i] = g

    def crash(self, index):
        self.nodes[index].online = False

    def restart(self, index):
        node = self.nodes[index]
        node.online = True
        node.timer_at = None
        self.push(self.now, "sync", index)
        node.engine.on_timer(self.now)
        self.flush(node)

    # measurements -----------------------------------------------------------------------------
    def min_height(self, honest_only=True):
        return min(n.chain.tip_header().height for n in self.nodes
                   if n.online and (not honest_only or n.behaviour == HONEST))

    def final_conflicts(self):
        """Heights at which two nodes hold different Final blocks (must stay empty)."""
        seen = {}
        bad = []
        for node in self.nodes:
            for height, block_hash in node.chain.final_hashes.items():
                other = seen.setdefault(height, block_hash)
                if other != block_hash and height not in bad:
                    bad.append(height)
        return bad

    def summary(self):
        ref = max((n for n in self.nodes if n.behaviour == HONEST), key=lambda n: n.chain.tip_header().height)
        blocks = ref.chain.blocks[1:]
        iterations = [b.header.iteration for b in blocks]
        finals = [h for h in ref.chain.final_times]
        latency = sorted(ref.chain.final_times[h] - self.proposed_at.get((h, blocks[h - 1].header.iteration), 0)
                         for h in finals if h <= len(blocks))
        return {
            "nodes": len(self.nodes), "virtual_s": self.now / 1000.0, "height": ref.chain.tip_header().height,
            "min_honest_height": self.min_height(), "final_height": ref.chain.finality.last_final,
            "iteration0_share": (iterations.count(0) / float(len(iterations))) if iterations else 0.0,
            "max_iteration": max(iterations) if iterations else 0,
            "proposal_to_final_ms_median": latency[len(latency) // 2] if latency else None,
            "final_conflicts": self.final_conflicts(), "messages_sent": self.sent,
            "verifications": self.verifier.verifications,
        }


def conflicting_vote(vote):
    if vote.kind == VOTE_VALID:
        return Vote(VOTE_INVALID, vote.block_hash)
    if vote.kind == VOTE_NO_CANDIDATE:
        return Vote(VOTE_VALID, bytes(32))
    return Vote(VOTE_NO_CANDIDATE)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    short = "--short" in argv
    n = 16 if short else 64
    sim = ConsensusSim(n=n, seed=7, loss=0.0 if short else 0.05)
    sim.start()
    sim.run_until((60 if short else 300) * 1000)
    result = sim.summary()
    for key in sorted(result):
        print("%s: %s" % (key, result[key]))
    ok = result["final_height"] >= 3 and not result["final_conflicts"]
    print("consensus_sim: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
