"""NodeCore: one provisioner node without I/O (the driver is dusk_edge/node_runner.py).

Frames from the Kadcast peer are routed by their rusk topic (PROTOCOL.md §2):
  consensus topics -> the round engine; re-broadcast one height lower only when the engine did
                      not reject them (validation before relay, §1.6);
  Tx               -> the mempool; relayed the same way once admitted;
  Block            -> catch-up and fork choice (engine.on_block), out-of-order blocks wait in a
                      bounded pool until their parent arrives;
  GetBlocks        -> up to 100 blocks after the locator, unicast to the requester;
  GetMempool       -> our mempool's transactions, unicast.
Falling behind (the engine reports messages of a later round) sends GetBlocks(tip) to a few
alive peers, at most once per SYNC_RETRY_MS. Time is `now` in milliseconds of wall-clock time,
because block timestamps are compared with it.
"""
import logging

from dusk_edge.core.consensus.messages import (
    CONSENSUS_TOPICS,
    SIGN_SEED_RATIFICATION,
    SIGN_SEED_VALIDATION,
    TOPIC_RATIFICATION,
    TOPIC_VALIDATION,
    compute_vote_signable,
    TOPIC_BLOCK,
    TOPIC_CANDIDATE,
    TOPIC_GET_BLOCKS,
    TOPIC_GET_MEMPOOL,
    TOPIC_TX,
    VERSION,
    decode_message,
    encode_message,
    peek_topic,
)
from dusk_edge.core.errors import DuskEdgeError, RemoteProtocolError
from dusk_edge.core.ledger.block import encode_block, pull_block, push_block
from dusk_edge.core.ledger.transactions import pull_transaction, push_transaction
from dusk_edge.core.consensus.messages import TOPIC_GET_RESOURCE, TOPIC_INV
from dusk_edge.core.sync import messages as sync
from dusk_edge.core.wire import Buffer
from dusk_edge.keys.errors import SigningRefusedError

LOG = logging.getLogger("dusk_edge.node")
MAX_BLOCKS_PER_REQUEST = 100
RESOURCE_TTL_S = 10
RESOURCE_HOPS = 16        # rusk's flood_request default
RESOURCE_FANOUT = 8       # "flood with random walk" to 8 random alive peers
MAX_REMEMBERED_REQUESTS = 4096
MAX_PENDING_BLOCKS = 1000
SYNC_RETRY_MS = 1000
SYNC_FANOUT = 4


def envelope(topic, payload):
    buf = Buffer()
    buf.push_u8(VERSION[0])
    buf.push_u16(VERSION[1])
    buf.push_u16(VERSION[2])
    buf.push_u8(topic)
    buf.push_bytes(payload)
    return buf.data


def payload_of(frame):
    return frame[6:]


def encode_tx_frame(tx):
    buf = Buffer()
    push_transaction(buf, tx)
    return envelope(TOPIC_TX, buf.data)


class NodeCore:
    def __init__(self, name, chain, engine, mempool, peer, rng):
        self.name = name
        self.chain = chain
        self.engine = engine
        self.mempool = mempool
        self.peer = peer
        self.rng = rng
        self.pending_blocks = {}  # height -> Block waiting for its parent
        self.sync_asked_at = None
        self.counters = {"frames": 0, "bad_frames": 0, "relayed": 0, "txs_admitted": 0, "txs_rejected": 0,
                         "blocks_served": 0, "sync_requests": 0}
        self.last_step_ms = {}
        self.started = False
        self.signer = getattr(engine, "signer", None)
        self.seen_requests = {}  # GetResource key -> now, so a flood is forwarded once

    # driver interface ---------------------------------------------------------------------------
    def start(self, now):
        self.peer.bootstrap(now)
        self.engine.on_start(now)
        self.started = True
        self.flush(now)

    def receive_datagram(self, data, addr, now):
        self.peer.receive_datagram(data, addr, now)
        self.drain_peer(now)

    def datagrams_to_send(self, now):
        return self.peer.datagrams_to_send(now)

    def bandwidth(self):
        """Broadcast mode, bytes moved and (edge mode) the per-block upload budget and its use."""
        if hasattr(self.peer, "bandwidth"):
            return self.peer.bandwidth()
        stats = self.peer.stats
        return {"mode": "as-specified", "bytes_sent": stats["bytes_sent"],
                "bytes_received": stats["bytes_received"]}

    def get_timer(self):
        deadlines = [d for d in (self.engine.get_timer(), self.peer.get_timer()) if d is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now):
        deadline = self.engine.get_timer()
        if deadline is not None and now >= deadline:
            try:
                self.engine.on_timer(now)
            except SigningRefusedError as exc:
                self.count("signing_refused")
                LOG.warning("signing refused: %s", exc)
        deadline = self.peer.get_timer()
        if deadline is not None and now >= deadline:
            self.peer.handle_timer(now)
        self.mempool.expire(now)
        self.drain_peer(now)
        self.flush(now)

    def submit_transaction(self, tx, now):
        """A transaction from the local CLI: admit it and broadcast it to the network."""
        self.mempool.add(tx, self.chain.state, now)
        self.counters["txs_admitted"] += 1
        self.peer.broadcast(encode_tx_frame(tx), None, now)

    # inbound ------------------------------------------------------------------------------------
    def drain_peer(self, now):
        event = self.peer.next_event()
        while event is not None:
            self.on_frame(event.payload, event.height, event.source, now)
            event = self.peer.next_event()
        self.flush(now)

    def on_frame(self, frame, height, source, now):
        self.counters["frames"] += 1
        try:
            topic = peek_topic(frame)
            if topic in CONSENSUS_TOPICS:
                self.on_consensus_frame(frame, height, now)
            elif topic == TOPIC_TX:
                self.on_tx_frame(frame, height, now)
            elif topic == TOPIC_BLOCK:
                self.count("blocks_received")
                self.on_block(pull_block(Buffer(payload_of(frame))), now)
            elif topic == TOPIC_GET_BLOCKS:
                self.serve_blocks(sync.pull_get_blocks(Buffer(payload_of(frame)))[0], source, now)
            elif topic == TOPIC_GET_MEMPOOL:
                sync.pull_get_mempool(Buffer(payload_of(frame)))
                self.serve_mempool(source, now)
            elif topic == TOPIC_INV:
                self.on_inv(sync.pull_inv(Buffer(payload_of(frame))), source, now)
            elif topic == TOPIC_GET_RESOURCE:
                self.on_get_resource(sync.pull_get_resource(Buffer(payload_of(frame))), source, now)
            else:
                raise RemoteProtocolError("unhandled topic %d" % topic)
        except SigningRefusedError as exc:
            self.count("signing_refused")
            LOG.warning("signing refused: %s", exc)
        except DuskEdgeError as exc:
            self.counters["bad_frames"] += 1
            LOG.debug("dropped frame from %r: %s", source, exc)

    def count(self, name):
        self.counters[name] = self.counters.get(name, 0) + 1

    def on_consensus_frame(self, frame, height, now):
        msg = decode_message(frame, pull_block)
        rejected_before = sum(self.engine.rejected.values())
        self.engine.on_message(msg, now)
        if sum(self.engine.rejected.values()) == rejected_before:
            self.relay(frame, height, now)
            self.observe_own_vote(msg)

    def observe_own_vote(self, msg):
        """A valid vote signed with our key reaches the duplicate-instance guard (keys issue)."""
        if msg.topic not in (TOPIC_VALIDATION, TOPIC_RATIFICATION) or self.signer is None:
            return
        if msg.sign_info.signer != self.engine.me or not hasattr(self.signer, "observe_vote"):
            return
        seed, step = (SIGN_SEED_VALIDATION, 1) if msg.topic == TOPIC_VALIDATION else (SIGN_SEED_RATIFICATION, 2)
        self.signer.observe_vote(msg.sign_info.signer, msg.header.round, msg.header.iteration, step,
                                 compute_vote_signable(msg.header, seed, msg.vote))

    def on_tx_frame(self, frame, height, now):
        tx = pull_transaction(Buffer(payload_of(frame)))
        try:
            self.mempool.add(tx, self.chain.state, now)
        except RemoteProtocolError:
            self.counters["txs_rejected"] += 1
            raise
        self.counters["txs_admitted"] += 1
        self.relay(frame, height, now)

    def relay(self, frame, height, now):
        if height > 0:
            self.peer.broadcast(frame, height - 1, now)
            self.counters["relayed"] += 1

    def on_block(self, block, now):
        tip = self.chain.state.height
        h = block.header.height
        if h > tip + 1:
            if len(self.pending_blocks) < MAX_PENDING_BLOCKS and h <= tip + MAX_PENDING_BLOCKS:
                self.pending_blocks[h] = block
            self.request_sync(now)
            return
        self.feed_block(block, now)
        nxt = self.pending_blocks.pop(self.chain.state.height + 1, None)
        while nxt is not None:
            self.feed_block(nxt, now)
            nxt = self.pending_blocks.pop(self.chain.state.height + 1, None)
        for stale in [k for k in self.pending_blocks if k <= self.chain.state.height]:
            del self.pending_blocks[stale]

    def feed_block(self, block, now):
        """engine.on_block with the block's signature checks batched into one pairing check
        (the chain settles them before it changes state; see ConsensusVerifier)."""
        verifier = self.chain.verifier
        if not hasattr(verifier, "defer"):
            self.engine.on_block(block, now)
            return
        verifier.defer()
        try:
            self.engine.on_block(block, now)
        finally:
            verifier.discard()

    # serving peers ------------------------------------------------------------------------------
    def serve_blocks(self, locator, requester, now):
        start = self.chain.height_of(locator)
        if start is None or self.chain.store is None:
            return
        top = min(self.chain.state.height, start + MAX_BLOCKS_PER_REQUEST)
        for height in range(start + 1, top + 1):
            stored = self.chain.store.block_by_height(height)
            if stored is None or stored.body is None:
                break
            self.peer.send_to(envelope(TOPIC_BLOCK, bytes(stored.header) + bytes(stored.body)), requester, now)
            self.counters["blocks_served"] += 1

    def serve_mempool(self, requester, now):
        for tx in self.mempool.transactions()[:MAX_BLOCKS_PER_REQUEST]:
            self.peer.send_to(encode_tx_frame(tx), requester, now)

    def request_sync(self, now):
        if self.sync_asked_at is not None and now - self.sync_asked_at < SYNC_RETRY_MS:
            return
        self.sync_asked_at = now
        buf = Buffer()
        sync.push_get_blocks(buf, self.chain.tip_header().hash, self.rng.getrandbits(64).to_bytes(8, "little"))
        frame = envelope(TOPIC_GET_BLOCKS, buf.data)
        alive = self.peer.table.alive_nodes(now)
        for node in self.rng.sample(alive, min(SYNC_FANOUT, len(alive))):
            self.peer.send_to(frame, node.addr, now)
        self.counters["sync_requests"] += 1

    def request_mempool(self, now):
        buf = Buffer()
        sync.push_get_mempool(buf, self.rng.getrandbits(64).to_bytes(8, "little"))
        for node in self.peer.table.alive_nodes(now)[:SYNC_FANOUT]:
            self.peer.send_to(envelope(TOPIC_GET_MEMPOOL, buf.data), node.addr, now)

    # inventory and resources (§2: Inv -> GetResource -> the resource) -------------------------
    def on_inv(self, inv, source, now):
        """Ask the announcer for what we lack."""
        missing = [item for item in inv.items[:sync.MAX_INV_ENTRIES] if self.find_resource(item) is None
                   and not self.is_obsolete(item)]
        if missing:
            self.send_get_resource(missing, [source], 1, now)

    def on_get_resource(self, request, source, now):
        """Serve what we hold to the requester; otherwise forward the flood once, one hop less."""
        if request.is_expired(now // 1000):
            return
        frames = [f for f in (self.find_resource(item) for item in request.inv.items[:sync.MAX_INV_ENTRIES])
                  if f is not None]
        if frames:
            for frame in frames:
                self.peer.send_to(frame, request.requester, now)
            self.count("resources_served")
            return
        key = (request.requester, tuple(request.inv.items))
        if key in self.seen_requests or request.hops_limit <= 1:
            return
        self.remember_request(key, now)
        forward = sync.GetResource(request.inv, request.requester, request.ttl_unix_secs, request.hops_limit - 1)
        self.flood(envelope(TOPIC_GET_RESOURCE, self.encode(sync.push_get_resource, forward)), now, exclude=source)

    def find_resource(self, item):
        """The frame that answers an inventory item, or None."""
        kind, param = item.kind, item.param
        if kind == sync.INV_MEMPOOL_TX:
            tx = self.mempool.get(param)
            return encode_tx_frame(tx) if tx is not None else None
        if kind in (sync.INV_BLOCK_FROM_HASH, sync.INV_BLOCK_FROM_HEIGHT):
            height = self.chain.height_of(param) if kind == sync.INV_BLOCK_FROM_HASH else param
            stored = self.chain.store.block_by_height(height) if height else None
            if stored is None or stored.body is None:
                return None
            return envelope(TOPIC_BLOCK, bytes(stored.header) + bytes(stored.body))
        if kind in (sync.INV_CANDIDATE_FROM_HASH, sync.INV_CANDIDATE_FROM_ITERATION):
            block = self.find_candidate(item)
            return envelope(TOPIC_CANDIDATE, encode_block(block)) if block is not None else None
        return None  # ValidationResult: served by the engine's own quorum relay

    def find_candidate(self, item):
        candidates = getattr(self.engine, "candidates", None) or {}
        if item.kind == sync.INV_CANDIDATE_FROM_ITERATION:
            header = item.param
            if header.round != self.engine.round:
                return None
            return candidates.get(header.iteration)
        for block in candidates.values():
            if block.header.hash == item.param:
                return block
        return None

    def is_obsolete(self, item):
        if item.kind == sync.INV_BLOCK_FROM_HEIGHT:
            return item.param <= self.chain.state.height
        return False

    def send_get_resource(self, items, targets, hops, now):
        request = sync.GetResource(sync.Inv(items), self.peer.addr, now // 1000 + RESOURCE_TTL_S, hops)
        frame = envelope(TOPIC_GET_RESOURCE, self.encode(sync.push_get_resource, request))
        for addr in targets:
            self.peer.send_to(frame, addr, now)

    def request_candidate(self, block_hash, now):
        """Emergency mode: flood a GetResource for a candidate we saw attested but never got."""
        request = sync.GetResource(sync.Inv([sync.InvItem(sync.INV_CANDIDATE_FROM_HASH, block_hash)]),
                                   self.peer.addr, now // 1000 + RESOURCE_TTL_S, RESOURCE_HOPS)
        self.flood(envelope(TOPIC_GET_RESOURCE, self.encode(sync.push_get_resource, request)), now)
        self.count("candidate_requests")

    def flood(self, frame, now, exclude=None):
        alive = [n for n in self.peer.table.alive_nodes(now) if n.addr != exclude]
        for node in self.rng.sample(alive, min(RESOURCE_FANOUT, len(alive))):
            self.peer.send_to(frame, node.addr, now)

    def remember_request(self, key, now):
        if len(self.seen_requests) >= MAX_REMEMBERED_REQUESTS:
            cutoff = now - RESOURCE_TTL_S * 1000
            self.seen_requests = dict((k, t) for k, t in self.seen_requests.items() if t >= cutoff)
            if len(self.seen_requests) >= MAX_REMEMBERED_REQUESTS:
                self.seen_requests.clear()
        self.seen_requests[key] = now

    @staticmethod
    def encode(push, value):
        buf = Buffer()
        push(buf, value)
        return buf.data

    # outbound -----------------------------------------------------------------------------------
    def flush(self, now):
        for msg in self.engine.take_outgoing():
            self.peer.broadcast(encode_message(msg, push_block), None, now)
            self.counters["sent_" + type(msg).__name__.lower()] = self.counters.get(
                "sent_" + type(msg).__name__.lower(), 0) + 1
        for event in self.engine.take_events():
            self.on_engine_event(event, now)

    def on_engine_event(self, event, now):
        kind = event[0]
        if kind == "sync":
            self.request_sync(now)
        elif kind == "need_candidate":
            self.request_candidate(event[3], now)
        elif kind == "emergency_block":
            self.peer.broadcast(envelope(TOPIC_BLOCK, encode_block(event[2])), None, now)
        elif kind == "accepted":
            LOG.info("accepted block", extra={"fields": {"height": event[1], "iteration": event[2]}})
            final = self.chain.finality.last_final
            if final > 0 and self.signer is not None and hasattr(self.signer, "prune_below"):
                self.signer.prune_below(final)  # Final rounds can never be signed again

    def account_info(self, key):
        """Balance, nonce and stake of an AccountKey (and of a 96-byte stake key if it is BLS)."""
        state = self.chain.state
        acct = state.account(key)
        info = {"balance": acct.balance, "nonce": acct.nonce, "stake": None}
        stake = state.stake(key.key) if len(key.key) == 96 else None
        if stake is not None:
            info["stake"] = {"value": stake.value, "locked": stake.locked, "eligibility": stake.eligibility,
                             "reward": stake.reward, "faults": stake.faults}
        return info

    # status -------------------------------------------------------------------------------------
    def status(self, now):
        chain = self.chain
        tip = chain.tip_header()
        label = chain.finality.get_label(tip.height)
        return {
            "name": self.name,
            "height": tip.height,
            "tip_hash": tip.hash.hex(),
            "tip_label": label.name if label is not None else "final",
            "final_height": chain.finality.last_final,
            "round": self.engine.round,
            "iteration": getattr(self.engine, "iteration", None),
            "peers": self.peer.table.alive_count(now),
            "mempool": len(self.mempool),
            "pending_blocks": len(self.pending_blocks),
            "last_step_ms": dict(self.last_step_ms),
            "counters": dict(self.counters),
            "rejected": dict(self.engine.rejected),
            "overlay": dict(self.peer.stats),
            "bandwidth": self.bandwidth(),
            "state_hash": chain.state.state_hash().hex(),
        }
