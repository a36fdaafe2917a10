"""The devnet for real: separate node processes on 127.0.0.x talking UDP (issue 7).

One module-scoped devnet of 5 provisioners goes through: >= 10 Final blocks; a transfer made
with the CLI on one node lands on all; a stake made with the CLI for a fresh key; a 6th node
started late with that key syncs from scratch and, once its stake is eligible, is selected into
committees and votes; a provisioner killed with SIGKILL restarts, catches up and votes again.
Every wait is a poll of a condition with a deadline.
"""
import os
import shutil
import subprocess
import sys

import pytest

from dusk_edge.core.ledger.genesis_spec import format_account_key
from dusk_edge.core.ledger.transactions import SCHEME_BLS, AccountKey
from dusk_edge.crypto import bls
from dusk_edge.devnet import FIXTURE_KEYS, PASSPHRASE, find_free_port, node_address, prepare_node, start_devnet, wait_for
from dusk_edge.devnet_procs import NodeProcess
from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.ops.status_client import query

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DUSK = 10 ** 9


def cli(*args):
    out = subprocess.run([sys.executable, "-m", "dusk_edge"] + list(args), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def status(sock):
    try:
        return query(sock, "status", timeout=2)
    except DuskEdgeError:
        return None


def heights(sockets, key="final_height"):
    values = [status(s) for s in sockets]
    return [v[key] if v else -1 for v in values]


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return str(path)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory):
    base = tmp_path_factory.mktemp("devnet")
    port = find_free_port(6)
    group, sockets = start_devnet(str(base), 5, port)
    try:
        yield base, group, sockets, port
    finally:
        group.stop_all()
        for node in group.nodes:
            if node.running:
                node.kill()
        leftovers = [n.name for n in group.nodes if n.running]
        assert not leftovers, "processes left running: %s" % leftovers


def test_devnet_end_to_end(devnet, tmp_path):
    base, group, sockets, port = devnet
    socks = [sockets["node-%d" % i] for i in range(5)]
    assert wait_for(lambda: min(heights(socks)) >= 10, 300), heights(socks)

    # a transfer made with the CLI on node-0 is included in a block on all nodes
    funded = write_private(tmp_path / "funded.key", "bls:" + FIXTURE_KEYS[4])
    receiver = format_account_key(AccountKey(SCHEME_BLS, bls.public_key(bls.secret_key_from_int(99))))
    cli("transfer", "--socket", socks[0], "--key-file", funded, "--to", receiver, "--amount", str(3 * DUSK),
        "--genesis", str(base / "genesis.toml"))
    assert wait_for(lambda: all(query(s, "account", key=receiver)["balance"] == 3 * DUSK for s in socks), 60)

    # a stake for a fresh key, then a late 6th node holding that key
    passfile = write_private(tmp_path / "pass", PASSPHRASE)
    new_keystore = str(tmp_path / "new.key")
    cli("keys", "generate", "--keystore", new_keystore, "--passphrase-file", passfile)
    owner = write_private(tmp_path / "owner.key", "bls:" + FIXTURE_KEYS[5])
    cli("stake", "--socket", socks[1], "--key-file", owner, "--keystore", new_keystore, "--passphrase-file", passfile,
        "--amount", str(1500 * DUSK), "--genesis", str(base / "genesis.toml"))
    new_pk = query(socks[1], "status")  # the node still answers after the stake
    assert new_pk is not None
    config = prepare_node(str(base), 5, str(base / "genesis.toml"), None, [node_address(0, port)], port)
    shutil.copy(new_keystore, os.path.join(base, "node-5", "consensus.key"))
    late = group.add(NodeProcess("node-5", config, str(base / "node-5" / "node.log"))).start()
    late_sock = str(base / "node-5" / "node.sock")
    assert wait_for(lambda: (status(late_sock) or {}).get("height", -1) >= max(heights(socks, "height")) - 1, 180), \
        (heights([late_sock], "height"), heights(socks, "height"))
    assert status(late_sock)["state_hash"] == status(socks[0])["state_hash"] or \
        status(late_sock)["height"] != status(socks[0])["height"]

    def late_votes():
        counters = (status(late_sock) or {}).get("counters", {})
        return counters.get("sent_validation", 0) + counters.get("sent_ratification", 0)

    assert wait_for(lambda: late_votes() > 0, 240), (status(late_sock) or {}).get("counters")

    # SIGKILL a provisioner, let the others go on, restart it: it catches up and votes again
    victim = group.nodes[2]
    victim.kill()
    before = max(heights(socks, "height"))
    assert wait_for(lambda: max(heights(socks, "height")) >= before + 2, 120)
    victim.start()

    def victim_back():
        s = status(socks[2])
        if s is None:
            return False
        others = max(heights([socks[0], socks[1]], "height"))
        votes = s["counters"].get("sent_validation", 0) + s["counters"].get("sent_ratification", 0)
        return s["height"] >= others - 1 and votes > 0

    assert wait_for(victim_back, 180), status(socks[2])
