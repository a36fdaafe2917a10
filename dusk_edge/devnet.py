"""`dusk-edge devnet`: N provisioner nodes as separate OS processes on 127.0.0.2, .3, ... with real
UDP, the devnet preset's rules, data under ./devnet-data/, and a live view of every node.

The provisioners' consensus keys are the public PROTOCOL.md §4 fixture keys 1..N (development
only; a devnet holds no value), sealed in each node's keystore under a passphrase file.
"""
import os
import time

from dusk_edge.config import render_config, validate_config
from dusk_edge.core.ledger.genesis_spec import format_account_key
from dusk_edge.core.ledger.transactions import SCHEME_BLS, AccountKey
from dusk_edge.crypto import bls
from dusk_edge.devnet_procs import NodeProcess, ProcessGroup
from dusk_edge.genesis import load_genesis

FIXTURE_KEYS = (  # PROTOCOL.md §4 generate_provisioners secret keys 1..9
    "611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c",
    "1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e",
    "ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d",
    "e463bcb1a6e57288ffd4671503082fa8656e3eacb78fb1925f8a7c76400e8e15",
    "7a19fb2d099a9557f7c10c2efbb8b101d9e0ec85610d5c74a887d1d4fb8d2827",
    "4dbad51eb408af559dd91bbbed8dbeae0a2c89e0e05f0cce87c98652a8437f1f",
    "befba86ae9e0c207865f7e24e8349d4ecdbc8b0f4632842499a0dfa60568e20a",
    "b260b8a10343bf5a5dacb4f1d32d06c4fdddc9981a3619fbc0a5cd9eb30f3334",
    "87a9779748888da5d96bbbce041b5109c6ffc0c4f30561c0170384a5922d9e21",
)
PASSPHRASE = "devnet-only-passphrase"
DEVNET_SCRYPT = {"n": 2 ** 12, "r": 8, "p": 1}  # fast unlock; the keys are public anyway
PORT = 9000
STAKE_PER_NODE = 2000 * 10 ** 9


def node_address(index, port=PORT):
    return "127.0.0.%d:%d" % (2 + index, port)


def find_free_port(count, rng=None):
    """A UDP port free on 127.0.0.2 .. 127.0.0.(count+1) (tests and parallel devnets)."""
    import random
    import socket

    rng = rng or random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 60000)
        socks = []
        try:
            for i in range(count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.%d" % (2 + i), port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise OSError("no free UDP port for %d loopback nodes" % count)


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"%s"' % value


def render_genesis(doc):
    lines = ["# dusk-edge devnet genesis, written by `dusk-edge devnet` (development keys only)"]
    for key, value in doc.items():
        if not isinstance(value, (list, dict)):
            lines.append("%s = %s" % (key, toml_value(value)))
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append("\n[%s]" % key)
            lines.extend("%s = %s" % (k, toml_value(v)) for k, v in value.items())
    for table in ("provisioners", "balances"):
        for row in doc[table]:
            lines.append("\n[[%s]]" % table)
            lines.extend("%s = %s" % (k, toml_value(v)) for k, v in row.items())
    return "\n".join(lines) + "\n"


def devnet_genesis(count):
    """The devnet preset with ``count`` provisioners (fixture keys 1..count), unequal stakes, and
    shielded transfers enabled by the shipped development ceremony's verifying key."""
    from dusk_edge.zk.toolchain import shipped_verifying_key_bytes

    spec = load_genesis("devnet")
    doc = spec.to_dict()
    doc["name"] = "devnet"
    vk = shipped_verifying_key_bytes()
    if vk is not None:
        doc["zk_verifying_keys"] = {"transfer": vk.hex()}
    doc["provisioners"] = []
    for i in range(count):
        pk = bls.public_key(bytes.fromhex(FIXTURE_KEYS[i]))
        owner = format_account_key(AccountKey(SCHEME_BLS, pk))
        doc["provisioners"].append({"account": pk.hex(), "owner": owner, "stake": STAKE_PER_NODE * (i + 1),
                                    "eligible_since": 0})
    return doc


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def prepare_node(base, index, genesis_path, secret_key_hex, bootstrap, port=PORT):
    """Write node-<index>/ (config, passphrase file, keystore); returns the config path."""
    from dusk_edge.keys import keystore

    data_dir = os.path.join(base, "node-%d" % index)
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    passphrase_file = os.path.join(data_dir, "passphrase")
    write_private(passphrase_file, PASSPHRASE.encode())
    keystore_path = os.path.join(data_dir, "consensus.key")
    if secret_key_hex is not None and not os.path.exists(keystore_path):
        key = keystore.ConsensusKey(bytes.fromhex(secret_key_hex))
        keystore.write_keystore(keystore_path, keystore.seal_with_passphrase(key, PASSPHRASE.encode(), DEVNET_SCRYPT))
    config = validate_config({
        "node": {"name": "node-%d" % index, "data_dir": data_dir, "board": "generic", "genesis": genesis_path},
        "network": {"listen": node_address(index, port), "bootstrap": bootstrap},
        "keys": {"keystore": keystore_path, "passphrase_file": passphrase_file, "passphrase_env": ""},
        "status": {"socket": os.path.join(data_dir, "node.sock")},
    })
    path = os.path.join(data_dir, "config.toml")
    with open(path, "w") as f:
        f.write(render_config(config))
    return path


def prepare_devnet(base, count, port=PORT):
    """Create (or reuse) the devnet directory; returns [(name, config path, socket path)]."""
    if not 1 <= count <= len(FIXTURE_KEYS):
        raise ValueError("a devnet has 1..%d nodes" % len(FIXTURE_KEYS))
    base = os.path.abspath(base)
    os.makedirs(base, exist_ok=True)
    genesis_path = os.path.join(base, "genesis.toml")
    if not os.path.exists(genesis_path):
        with open(genesis_path, "w") as f:
            f.write(render_genesis(devnet_genesis(count)))
    load_genesis(genesis_path)  # a hand-edited genesis that no longer parses fails here, by field
    out = []
    for i in range(count):
        config = prepare_node(base, i, genesis_path, FIXTURE_KEYS[i], [node_address(0, port)] if i else [], port)
        out.append(("node-%d" % i, config, os.path.join(base, "node-%d" % i, "node.sock")))
    return out


def start_devnet(base, count, port=PORT):
    """(ProcessGroup, {name: socket path}) with every node started."""
    group = ProcessGroup()
    sockets = {}
    for name, config, sock in prepare_devnet(base, count, port):
        log = os.path.join(os.path.dirname(config), "node.log")
        group.add(NodeProcess(name, config, log))
        sockets[name] = sock
    group.start_all()
    return group, sockets


def wait_for(predicate, timeout_s, interval_s=0.25):
    """Poll ``predicate`` until it is truthy or the deadline passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval_s)
        value = predicate()
    return value
