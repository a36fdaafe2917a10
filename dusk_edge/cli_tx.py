"""`dusk-edge transfer` and `dusk-edge stake`: build, sign and submit a transaction to a node.

Account keys come from a 0600 file holding one line `bls:<secret hex>` or `ed25519:<seed hex>`;
the consensus key of a stake comes from its keystore. The nonce is the account's next one, asked
from the node, unless --nonce is given.
"""
import click

from dusk_edge.core.errors import ConfigError

DUSK = 10 ** 9


def load_account_signer(path):
    from dusk_edge.core.ledger.tx_builder import BlsSigner, Ed25519Signer
    from dusk_edge.keys.private_files import read_private_file

    text = read_private_file(path).decode("ascii", "replace").strip()
    scheme, _, hex_key = text.partition(":")
    try:
        raw = bytes.fromhex(hex_key)
    except ValueError:
        raise ConfigError("%s: key must be SCHEME:HEX" % path) from None
    if scheme == "bls" and len(raw) == 32:
        return BlsSigner(raw)
    if scheme == "ed25519" and len(raw) == 32:
        return Ed25519Signer(raw)
    raise ConfigError("%s: key must be bls:<32-byte hex> or ed25519:<32-byte hex>" % path)


def _submit(socket_path, tx):
    from dusk_edge.ops.status_client import query

    tx_id = query(socket_path, "submit_tx", tx=tx.encode().hex())
    click.echo("submitted %s" % tx_id)


def _next_nonce(socket_path, signer, nonce):
    from dusk_edge.core.ledger.genesis_spec import format_account_key
    from dusk_edge.ops.status_client import query

    if nonce is not None:
        return nonce
    return query(socket_path, "account", key=format_account_key(signer.account_key))["nonce"] + 1


def chain_id_of(genesis):
    """The chain id of a preset name or genesis TOML (what a transaction signs)."""
    from dusk_edge.genesis import load_genesis

    return load_genesis(genesis).profile.chain_id


common = [
    click.option("--socket", "socket_path", required=True, type=click.Path(), help="node socket"),
    click.option("--key-file", required=True, type=click.Path(), help="sender account key file"),
    click.option("--genesis", default="devnet", help="preset or genesis TOML (for the chain id)"),
    click.option("--nonce", default=None, type=int, help="default: the account's next nonce"),
]


def with_common(fn):
    for option in reversed(common):
        fn = option(fn)
    return fn


@click.command("transfer")
@with_common
@click.option("--to", "receiver", required=True, help="receiver account, e.g. bls:<96-byte hex>")
@click.option("--amount", required=True, type=click.IntRange(1), help="LUX (1 DUSK = 10^9 LUX)")
def transfer_cmd(socket_path, key_file, genesis, nonce, receiver, amount):
    """Transfer LUX from an account to another."""
    from dusk_edge.core.ledger.genesis_spec import parse_account_key
    from dusk_edge.core.ledger.tx_builder import build_transfer

    signer = load_account_signer(key_file)
    tx = build_transfer(signer, parse_account_key(receiver, "--to"), amount,
                        _next_nonce(socket_path, signer, nonce), chain_id_of(genesis))
    _submit(socket_path, tx)


@click.command("stake")
@with_common
@click.option("--keystore", "keystore_path", required=True, type=click.Path(), help="consensus keystore to stake")
@click.option("--passphrase-file", default=None, type=click.Path())
@click.option("--amount", required=True, type=click.IntRange(1), help="LUX to stake (minimum 1000 DUSK)")
def stake_cmd(socket_path, key_file, genesis, nonce, keystore_path, passphrase_file, amount):
    """Stake LUX from an owner account on a consensus key (both keys sign)."""
    from dusk_edge.cli_keys import unlock_keystore
    from dusk_edge.core.ledger.tx_builder import BlsSigner, build_stake

    owner = load_account_signer(key_file)
    consensus = BlsSigner(unlock_keystore(keystore_path, passphrase_file=passphrase_file,
                                          passphrase_env="DUSK_EDGE_PASSPHRASE").secret_key)
    tx = build_stake(owner, consensus, amount, _next_nonce(socket_path, owner, nonce), chain_id_of(genesis))
    _submit(socket_path, tx)


COMMANDS = (transfer_cmd, stake_cmd)
