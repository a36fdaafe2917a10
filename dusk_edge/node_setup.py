"""Build a NodeCore from a validated config (dusk_edge.config): genesis, board caps, store, ledger,
keys, engine and Kadcast peer. Everything here runs once at start-up."""
import ipaddress
import logging
import os
import random

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from dusk_edge.boards import detect_board, load_board
from dusk_edge.config import parse_address
from dusk_edge.core.consensus.engine import ConsensusEngine
from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.edge import EdgeConfig, EdgePeer
from dusk_edge.core.kadcast.peer import Peer
from dusk_edge.core.ledger.mempool import Mempool
from dusk_edge.core.ledger.signatures import NativeVerifier
from dusk_edge.crypto import bls
from dusk_edge.crypto.fec import make_fec
from dusk_edge.genesis import load_genesis
from dusk_edge.node import NodeCore
from dusk_edge.node_chain import NodeChain
from dusk_edge.store.block_store import BlockStore, store_path
from dusk_edge.zk.ledger_hook import shielded_hook_from_genesis

LOG = logging.getLogger("dusk_edge.setup")
_NEG_G2 = -G2Point()


class ConsensusVerifier:
    """What the engine and block checks need from BLS: the multisig facade.

    Successful checks are remembered (bounded, oldest dropped first): one instance is shared by
    the engine and the chain, so an attestation verified as a block's `att` is not verified again
    as the next block's `prev_block_cert`; H0(message) is cached too (every vote of a step, and
    every aggregate of it, signs one message).

    Between defer() and settle() (a complete block from sync or the Block topic: NodeCore.on_block
    defers, NodeChain settles before it changes any state) each check only parses its inputs and
    is queued; settle() verifies the whole queue with one randomized multi-pairing
    e(sum r_i sig_i, g2) == prod e(r_i H0(m_i), apk_i), checks under the same keys sharing one
    pairing (generator seed and block signature), and raises RemoteProtocolError if any fails."""

    MEMO_SIZE = 1024
    H0_CACHE_SIZE = 256
    aggregate_signatures = staticmethod(bls.aggregate_signatures)

    def __init__(self):
        self._verified = {}
        self._pending = None  # [(memo key, signature point, H0(message), APK)] while deferred
        self._h0_points = {}

    def verify_multisig(self, public_keys, message, signature):
        key = (tuple(bytes(pk) for pk in public_keys), bytes(message), bytes(signature))
        if key in self._verified:
            return True
        apk = bls.aggregate_public_keys(key[0])  # malformed input raises CryptoError here
        sig_point = bls.load_signature(key[2])
        if self._pending is not None:
            self._pending.append((key, sig_point, self._h0(key[1]), apk))
            return True
        ok = GT.pairing_check([sig_point, self._h0(key[1])], [_NEG_G2, apk])
        if ok:
            self._remember(key)
        return ok

    def _h0(self, message):
        """H0(message), cached: every vote of a step signs the same message."""
        point = self._h0_points.get(message)
        if point is None:
            if len(self._h0_points) >= self.H0_CACHE_SIZE:
                del self._h0_points[next(iter(self._h0_points))]
            point = self._h0_points[message] = bls.h0(message)
        return point

    def defer(self):
        self._pending = []

    def discard(self):
        self._pending = None

    def settle(self):
        """Verify everything queued since defer(); stop deferring. Raises RemoteProtocolError."""
        pending, self._pending = self._pending, None
        if not pending:
            return
        if not verify_batch(pending):
            raise RemoteProtocolError("a signature or attestation of the block does not verify")
        for check in pending:
            self._remember(check[0])

    def _remember(self, key):
        if len(self._verified) >= self.MEMO_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[key] = True


def verify_batch(checks):
    """One pairing check for [(memo key (pks, msg, sig), signature point, H0 point, APK point)]
    with random 64-bit weights, the first fixed to 1 (a forged check passes with probability
    2^-64). The points were checked on parsing (subgroup included), so the unchecked
    multi-exponentiation fits."""
    noise = os.urandom(8 * len(checks))
    weights = [Scalar(1)] + [Scalar(int.from_bytes(noise[8 * i:8 * i + 8], "little") | 1)
                             for i in range(1, len(checks))]
    total_sig = G1Point.multiexp_unchecked([check[1] for check in checks], weights)
    groups = {}  # the same keys (generator: seed and block signature) share one pairing
    for (key, _sig, h0_point, apk), weight in zip(checks, weights):
        group = groups.get(key[0])
        if group is None:
            group = groups[key[0]] = ([], [], apk)
        group[0].append(h0_point)
        group[1].append(weight)
    g1_side, g2_side = [total_sig], [_NEG_G2]
    for points, scalars, apk in groups.values():
        g1_side.append(G1Point.multiexp_unchecked(points, scalars))
        g2_side.append(apk)
    return GT.pairing_check(g1_side, g2_side)


def broadcast_mode(net, profile):
    """network.broadcast, with "auto" meaning the profile's mode: as specified on the dusk wire
    profile, the size-aware edge mode (docs/edge-broadcast.md) on every other profile."""
    mode = net["broadcast"]
    if mode == "auto":
        mode = "as-specified" if profile.name == "dusk" else "edge"
    return mode


def open_peer(net, profile, address, bootstrappers, now):
    """The node's Kadcast peer: the as-specified Peer or the edge mode's EdgePeer."""
    kadcast = KadcastConfig(network_id=profile.network_id, auto_propagate=False)
    args = (address[0], address[1], make_fec(profile.fec), random.Random(), kadcast, bootstrappers)
    if broadcast_mode(net, profile) == "edge":
        return EdgePeer(*args, now=now, edge=EdgeConfig(uplink_bps=net["uplink_mbps"] * 1000000))
    return Peer(*args, now=now)


def packed_address(text, field):
    host, port = parse_address(text, field)
    return ipaddress.ip_address(host).packed, port


def open_signer(config, profile):
    """The node's LocalSigner, or None for a non-provisioner (no keystore file)."""
    keys = config["keys"]
    if keys["signer"] == "remote":
        return open_remote_signer(keys["remote_signer"], keys["remote_secret_file"])
    if not os.path.exists(keys["keystore"]):
        LOG.warning("no keystore at %s: running without a consensus key (observer)", keys["keystore"])
        return None
    from dusk_edge.cli_keys import unlock_keystore
    from dusk_edge.keys.signer import open_local_signer

    key = unlock_keystore(keys["keystore"], passphrase_file=keys["passphrase_file"] or None,
                          passphrase_env=keys["passphrase_env"] or None)
    guard_dir = os.path.join(config["node"]["data_dir"], "guard")
    # Listen for our own key's votes for one step before signing (duplicate-instance detection).
    return open_local_signer(key, guard_dir, listen_ms=profile.min_step_timeout_ms)


def open_remote_signer(target, secret_file):
    """A RemoteSigner over ``unix:/path`` or ``serial:/dev/ttyX[@baud]`` with the shared secret."""
    from dusk_edge.core.errors import ConfigError
    from dusk_edge.keys.private_files import read_private_file
    from dusk_edge.keys.remote_client import RemoteSigner, SerialTransport, UnixTransport

    kind, _, where = target.partition(":")
    if kind == "unix" and where:
        transport = UnixTransport(where)
    elif kind == "serial" and where:
        device, _, baud = where.partition("@")
        transport = SerialTransport(device, int(baud) if baud.isdigit() else 115200)
    else:
        raise ConfigError("keys.remote_signer must be unix:/path or serial:/dev/ttyX[@baud], not %r" % target)
    if not secret_file:
        raise ConfigError("keys.remote_secret_file is required with a remote signer")
    return RemoteSigner(transport, read_private_file(secret_file).strip())


def build_node(config, now):
    """(NodeCore, board profile, resources to close)."""
    node_cfg = config["node"]
    spec = load_genesis(node_cfg["genesis"])
    profile = spec.profile
    board = detect_board() if node_cfg["board"] == "auto" else load_board(node_cfg["board"])
    caps = board["caps"]
    os.makedirs(node_cfg["data_dir"], mode=0o700, exist_ok=True)
    store = BlockStore.open(store_path(node_cfg["data_dir"]), board_caps=caps)
    shielded = shielded_hook_from_genesis(spec)  # None unless the genesis fixes a transfer key
    mempool = Mempool(profile, NativeVerifier(), capacity=caps["mempool_max_txs"],
                      is_in_ledger=lambda tx_id: store.tx_location(tx_id) is not None, shielded=shielded)
    verifier = ConsensusVerifier()
    chain = NodeChain(spec, store, verifier, NativeVerifier(), mempool, shielded=shielded)
    signer = open_signer(config, profile)
    engine = ConsensusEngine(chain, signer, verifier, chain.timing, emergency_key=spec.emergency_key)
    net = config["network"]
    ip, port = packed_address(net["public_address"] or net["listen"], "network.listen")
    bootstrappers = [packed_address(b, "network.bootstrap") for b in net["bootstrap"]]
    peer = open_peer(net, profile, (ip, port), bootstrappers, now)
    node = NodeCore(node_cfg["name"], chain, engine, mempool, peer, random.Random())
    node.board = board
    node.signer = signer
    return node, [store] + ([signer] if signer is not None and hasattr(signer, "close") else [])
