"""NodeCore over real Kadcast peers (in-process datagram loop, virtual clock): blocks finalize,
a transaction submitted to one node lands on all, and a late node syncs from scratch."""
import pytest

from dusk_edge.core.ledger.transactions import SCHEME_BLS, AccountKey
from dusk_edge.core.ledger.tx_builder import BlsSigner as TxSigner, build_transfer
from dusk_edge.crypto import bls
from dusk_edge.genesis import load_genesis
from tests.node_harness import FUNDED_KEY, InProcessNet

pytestmark = pytest.mark.slow


def heights(net):
    return [n.chain.state.height for n in net.nodes.values()]


def transfer_lands_on_all(net, spec, via, receiver_sk, amount, limit_ms):
    """The funded fixture account pays ``amount`` to a fresh key through node ``via``; waits until
    every node's state has it and returns the receiver."""
    nodes = list(net.nodes.values())
    receiver = AccountKey(SCHEME_BLS, bls.public_key(bls.secret_key_from_int(receiver_sk)))
    tx = build_transfer(TxSigner(bytes.fromhex(FUNDED_KEY)), receiver, amount, nonce=1,
                        chain_id=spec.profile.chain_id)
    nodes[via].submit_transaction(tx, net.now)
    net.pump(list(net.nodes)[via])
    assert net.run(lambda: all(n.chain.state.balance(receiver) == amount for n in nodes), limit_ms), heights(net)
    return receiver


def test_nodes_finalize_gossip_a_transfer_and_a_late_node_syncs(tmp_path):
    spec = load_genesis("devnet")
    net = InProcessNet(tmp_path, spec)
    nodes = list(net.nodes.values())
    assert net.run(lambda: min(n.chain.finality.last_final for n in nodes) >= 3, 60000), heights(net)

    view = nodes[0].bandwidth()
    assert view["mode"] == "as-specified" and view["bytes_sent"] > 0 and view["bytes_received"] > 0
    receiver = transfer_lands_on_all(net, spec, 0, 77, 7 * 10 ** 9, 60000)

    # a non-provisioner node joins late and catches up through GetBlocks
    target = max(heights(net)) + 2
    addr, late = net.add_node(5, None, [list(net.nodes)[0]])
    assert net.run(lambda: late.chain.state.height >= target, 60000), (late.chain.state.height, heights(net))
    leader = nodes[0].chain
    assert late.chain.get_header(target).hash == leader.get_header(target).hash
    assert late.chain.state.balance(receiver) == 7 * 10 ** 9
    assert late.counters["sync_requests"] >= 1


def test_edge_mode_nodes_finalize_and_report_bandwidth(tmp_path):
    from dusk_edge.core.kadcast.edge import EdgePeer
    from dusk_edge.ops.metrics import render_metrics

    spec = load_genesis("devnet")
    net = InProcessNet(tmp_path, spec, peer_class=EdgePeer)
    nodes = list(net.nodes.values())
    assert net.run(lambda: min(n.chain.finality.last_final for n in nodes) >= 3, 60000), heights(net)
    status = nodes[0].status(net.now)
    view = status["bandwidth"]
    assert view["mode"] == "edge" and view["budget_copies"] > 0
    assert view["bytes_sent"] > 0 and view["bytes_received"] > 0
    assert nodes[0].peer.stats["edge_relayed"] > 0  # votes left through a relay (origin hiding)
    assert "dusk_edge_bandwidth_bytes_sent " in render_metrics(status)


def test_edge_mode_moves_candidates_and_blocks_as_stripes(tmp_path):
    """With a low large_threshold every candidate and block takes the stripe-tree path (announce,
    pull, cut-through symbols): the chain still finalizes and a transfer lands on every node."""
    from functools import partial

    from dusk_edge.core.kadcast.edge import EdgeConfig, EdgePeer

    spec = load_genesis("devnet")
    peer_class = partial(EdgePeer, edge=EdgeConfig(large_threshold=300, stripes=4))
    net = InProcessNet(tmp_path, spec, peer_class=peer_class, loss=0.05)
    nodes = list(net.nodes.values())
    assert net.run(lambda: min(n.chain.finality.last_final for n in nodes) >= 3, 120000), heights(net)
    transfer_lands_on_all(net, spec, 1, 78, 5 * 10 ** 9, 120000)
    assert all(n.peer.stats["edge_decoded"] > 0 for n in nodes)  # candidates/blocks came as stripes
    assert sum(n.peer.stats["edge_expired"] for n in nodes) == 0
    view = nodes[0].bandwidth()
    assert view["mode"] == "edge" and 0 < view["max_budget_used"] <= 100, view


def test_inventory_and_resource_requests(tmp_path):
    from dusk_edge.core.consensus.messages import TOPIC_GET_RESOURCE, TOPIC_INV
    from dusk_edge.core.sync import messages as sync
    from dusk_edge.node import envelope

    spec = load_genesis("devnet")
    net = InProcessNet(tmp_path, spec)
    addrs = list(net.nodes)
    nodes = [net.nodes[a] for a in addrs]
    assert net.run(lambda: min(n.chain.state.height for n in nodes) >= 2, 60000), heights(net)

    # node 0 holds a transaction nobody else has; it announces it to node 1 with an Inv
    receiver = AccountKey(SCHEME_BLS, bls.public_key(bls.secret_key_from_int(78)))
    tx = build_transfer(TxSigner(bytes.fromhex(FUNDED_KEY)), receiver, 10 ** 9, nonce=1, chain_id=spec.profile.chain_id)
    nodes[0].mempool.add(tx, nodes[0].chain.state, net.now)
    inv = sync.Inv([sync.InvItem(sync.INV_MEMPOOL_TX, tx.tx_id())])
    nodes[0].peer.send_to(envelope(TOPIC_INV, NodeCore_encode(sync.push_inv, inv)), addrs[1], net.now)
    net.pump(addrs[0])
    assert net.run(lambda: tx.tx_id() in nodes[1].mempool or nodes[1].chain.state.balance(receiver) > 0, 20000)
    assert nodes[0].counters.get("resources_served", 0) >= 1

    # a GetResource for block 1 that node 3 floods through node 2 reaches a holder and comes back
    before = nodes[3].counters.get("blocks_received", 0)
    request = sync.GetResource(sync.Inv([sync.InvItem(sync.INV_BLOCK_FROM_HEIGHT, 1)]), addrs[3],
                               net.now // 1000 + 10, 3)
    nodes[3].peer.send_to(envelope(TOPIC_GET_RESOURCE, NodeCore_encode(sync.push_get_resource, request)), addrs[2],
                          net.now)
    net.pump(addrs[3])
    assert net.run(lambda: nodes[3].counters.get("blocks_received", 0) > before, 20000)
    assert nodes[2].counters.get("resources_served", 0) + nodes[0].counters.get("resources_served", 0) >= 2
    # an expired request is ignored
    served = nodes[2].counters["resources_served"]
    old = sync.GetResource(request.inv, addrs[3], 5, 3)
    nodes[2].on_get_resource(old, addrs[3], net.now)
    assert nodes[2].counters["resources_served"] == served


def NodeCore_encode(push, value):
    from dusk_edge.node import NodeCore

    return NodeCore.encode(push, value)


def test_memory_cap_sheds_caches_and_reports(tmp_path, caplog):
    from dusk_edge.boards import load_board
    from dusk_edge.crypto import bls as bls_module
    from dusk_edge.node_runner import apply_memory_cap

    net = InProcessNet(tmp_path, load_genesis("devnet"))
    node = list(net.nodes.values())[0]
    assert net.run(lambda: node.chain.state.height >= 2, 60000)
    node.board = load_board("pi4")  # cap 512 MB
    assert apply_memory_cap(node, 100.0, {}) == {"rss_mb": 100.0, "cap_mb": 512, "over_cap": False}
    assert node.chain._committees and len(bls_module.COEFFICIENT_KEYS._points) > 0
    node.pending_blocks[99] = object()
    with caplog.at_level("WARNING"):
        state = apply_memory_cap(node, 600.0, {})
    assert state["over_cap"] is True and "memory above the board cap" in caplog.text
    assert not node.chain._committees and not node.pending_blocks
    assert len(bls_module.COEFFICIENT_KEYS._points) == 0
    assert net.run(lambda: node.chain.state.height >= 4, 60000)  # caches regrow, consensus goes on
