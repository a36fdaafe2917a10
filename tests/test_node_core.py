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


def test_nodes_finalize_gossip_a_transfer_and_a_late_node_syncs(tmp_path):
    spec = load_genesis("devnet")
    net = InProcessNet(tmp_path, spec)
    nodes = list(net.nodes.values())
    assert net.run(lambda: min(n.chain.finality.last_final for n in nodes) >= 3, 60000), heights(net)

    receiver = AccountKey(SCHEME_BLS, bls.public_key(bls.secret_key_from_int(77)))
    tx = build_transfer(TxSigner(bytes.fromhex(FUNDED_KEY)), receiver, 7 * 10 ** 9, nonce=1,
                        chain_id=spec.profile.chain_id)
    nodes[0].submit_transaction(tx, net.now)
    net.pump(list(net.nodes)[0])
    assert net.run(lambda: all(n.chain.state.balance(receiver) == 7 * 10 ** 9 for n in nodes), 60000), heights(net)

    # a non-provisioner node joins late and catches up through GetBlocks
    target = max(heights(net)) + 2
    addr, late = net.add_node(5, None, [list(net.nodes)[0]])
    assert net.run(lambda: late.chain.state.height >= target, 60000), (late.chain.state.height, heights(net))
    leader = nodes[0].chain
    assert late.chain.get_header(target).hash == leader.get_header(target).hash
    assert late.chain.state.balance(receiver) == 7 * 10 ** 9
    assert late.counters["sync_requests"] >= 1
