"""Shielded transfers on a devnet of real node processes (issue 11).

Three provisioner nodes on 127.0.0.x whose genesis fixes the shipped ceremony's verifying key.
With the wallet CLI against the nodes' sockets: Alice shields public funds through node-0 and
pays Bob through node-1 (two real proofs); the notes are final on every node with the same pool
state, Bob's wallet finds his note through node-2, and the transfer's payload re-sent in a new
signed envelope is refused by a node (spent nullifier). Every wait is a poll with a deadline.
"""
import subprocess
import sys

import pytest

from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.core.ledger.execution import GAS_COSTS
from dusk_edge.core.ledger.transactions import KIND_SHIELDED, decode_transaction
from dusk_edge.core.ledger.tx_builder import BlsSigner, build_shielded
from dusk_edge.devnet import FIXTURE_KEYS, find_free_port, start_devnet, wait_for
from dusk_edge.ops.status_client import NodeUnreachable, query
from tests.conftest import require

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
DUSK = 10 ** 9
FEE = GAS_COSTS[KIND_SHIELDED]  # gas price 1


def wallet(*args):
    out = subprocess.run([sys.executable, "-m", "dusk_edge", "wallet"] + list(args), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def sync(sock):
    """The node's wallet view; None while the node is not up (an error reply fails the test)."""
    try:
        return query(sock, "shielded_sync", timeout=5, start=0, limit=256)
    except NodeUnreachable:
        return None


def final_notes(sockets):
    infos = [sync(s) for s in sockets]
    return [i["final_total"] if i else -1 for i in infos]


@pytest.fixture()
def devnet(tmp_path):
    require("node")
    port = find_free_port(3)
    group, sockets = start_devnet(str(tmp_path / "devnet"), 3, port)
    try:
        yield tmp_path, [sockets["node-%d" % i] for i in range(3)]
    finally:
        group.stop_all()
        for node in group.nodes:
            if node.running:
                node.kill()
        assert not [n.name for n in group.nodes if n.running]


def test_shield_transfer_final_on_all_nodes_and_reused_nullifier_refused(devnet):
    base, socks = devnet
    genesis = str(base / "devnet" / "genesis.toml")
    key_file = base / "alice.key"
    key_file.write_text("bls:" + FIXTURE_KEYS[4])
    key_file.chmod(0o600)
    alice = ["--wallet", str(base / "alice.json")]
    bob = ["--wallet", str(base / "bob.json")]
    bob_address = wallet("init", *bob, "--for-node").split()[-1]
    wallet("init", *alice, "--for-node")
    assert wait_for(lambda: min(final_notes(socks)) == 0, 180), final_notes(socks)

    node = ["--key-file", str(key_file), "--genesis", genesis]
    wallet("shield", *alice, "--node", socks[0], *node, str(5 * DUSK))
    assert wait_for(lambda: min(final_notes(socks)) == 2, 180), final_notes(socks)
    sent = str(base / "transfer.hex")
    wallet("transfer", *alice, "--node", socks[1], *node, "--tx-out", sent, bob_address, str(2 * DUSK))
    assert wait_for(lambda: min(final_notes(socks)) == 4, 180), final_notes(socks)

    # the same pool on every node: outputs, newest root, balance
    views = [sync(s) for s in socks]
    assert all(v["outputs"] == views[0]["outputs"] and v["roots"][-1] == views[0]["roots"][-1] for v in views)
    assert [v["pool_balance"] for v in views] == [5 * DUSK - FEE] * 3  # the transfer paid its fee out of the pool
    assert wallet("balance", *bob, "--node", socks[2]).splitlines()[0] == "shielded %d in 1 notes" % (2 * DUSK)
    assert wallet("balance", *alice, "--node", socks[2]).splitlines()[0] == \
        "shielded %d in 1 notes" % (5 * DUSK - 2 * DUSK - FEE)

    # the transfer's payload (its nullifiers are spent) in a fresh envelope: refused by the node
    payload = decode_transaction(bytes.fromhex(open(sent).read())).payload
    signer = BlsSigner(bytes.fromhex(FIXTURE_KEYS[4]))
    nonce = query(socks[2], "account", key="bls:" + signer.public_key.hex())["nonce"] + 1
    again = build_shielded(signer, payload, nonce, decode_transaction(bytes.fromhex(open(sent).read())).chain_id)
    with pytest.raises(DuskEdgeError, match="DoubleSpend"):
        query(socks[2], "submit_tx", timeout=5, tx=again.encode().hex())
