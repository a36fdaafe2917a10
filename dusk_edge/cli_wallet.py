"""`dusk-edge wallet ...`: shielded wallet commands (issue 11).

The wallet works against a local ledger state file (--state) that stands in for the node: it holds
public balances, the shielded pool and the verifying key fixed when it was created. `init` creates
both files (and the circuit artifacts on first use); shield, transfer and unshield prove in node
via snarkjs and submit to the state file with the node's own pool rules.
"""
import click

from dusk_edge.core.errors import ConfigError
from dusk_edge.zk import notes

WALLET_OPTION = click.option("--wallet", "wallet_path", default="wallet.json", show_default=True,
                             type=click.Path(dir_okay=False), help="wallet file")
STATE_OPTION = click.option("--state", "state_path", default="shielded-state.json", show_default=True,
                            type=click.Path(dir_okay=False), help="local ledger state file")
FEE_OPTION = click.option("--fee", default=0, show_default=True, type=click.IntRange(0, notes.MAX_VALUE),
                          help="public fee")


@click.group("wallet")
def wallet_group():
    """Shielded wallet: shield, transfer, unshield, balance."""


def _open(wallet_path, state_path):
    from dusk_edge.zk.wallet import LocalLedger, Wallet

    wallet = Wallet.load(wallet_path)
    ledger = LocalLedger.load(state_path)
    wallet.scan(ledger.outputs, ledger.pool.nullifiers)
    return wallet, ledger


def _prove_and_submit(wallet, ledger, plan, wallet_path, state_path):
    from dusk_edge.zk.prover import Prover

    prover = Prover()
    (tx,) = prover.prove([plan])
    ledger.submit(tx)
    ledger.save(state_path)
    wallet.scan(ledger.outputs, ledger.pool.nullifiers)
    wallet.save(wallet_path)
    click.echo("accepted: %d bytes, proved in %.0f ms, pool root %s"
               % (len(tx.to_bytes()), prover.last_proving_ms[0], notes.field_to_bytes(ledger.pool.tree.root).hex()[:16]))


@wallet_group.command("init")
@WALLET_OPTION
@STATE_OPTION
@click.option("--account", required=True, help="name of the wallet's public account")
@click.option("--fund", default=0, type=click.IntRange(0, notes.MAX_VALUE),
              help="credit the public account in a new local state file (a local faucet)")
def init_command(wallet_path, state_path, account, fund):
    """Create a wallet (and the local state file if missing)."""
    import os

    from dusk_edge.zk import toolchain
    from dusk_edge.zk.verifier import verifying_key_bytes_from_snarkjs
    from dusk_edge.zk.wallet import LocalLedger, Wallet

    if os.path.exists(wallet_path):
        raise ConfigError("wallet file %s exists; refusing to overwrite its keys" % wallet_path)
    if os.path.exists(state_path):
        ledger = LocalLedger.load(state_path)
    else:
        vk = verifying_key_bytes_from_snarkjs(toolchain.build(log=click.echo).verification_key())
        ledger = LocalLedger(vk)
    ledger.accounts[account] = ledger.public_balance(account) + fund
    ledger.save(state_path)
    wallet = Wallet.create(account)
    wallet.save(wallet_path)
    click.echo("address %s" % wallet.key.address.hex())


@wallet_group.command("address")
@WALLET_OPTION
def address_command(wallet_path):
    """Print the wallet's shielded address."""
    from dusk_edge.zk.wallet import Wallet

    click.echo(Wallet.load(wallet_path).key.address.hex())


@wallet_group.command("balance")
@WALLET_OPTION
@STATE_OPTION
def balance_command(wallet_path, state_path):
    """Shielded and public balances."""
    wallet, ledger = _open(wallet_path, state_path)
    wallet.save(wallet_path)
    unspent = [n for n in wallet.owned if not n["spent"] and n["value"]]
    click.echo("shielded %d in %d notes" % (wallet.shielded_balance(), len(unspent)))
    click.echo("public   %d (account %s)" % (ledger.public_balance(wallet.account), wallet.account))


@wallet_group.command("shield")
@WALLET_OPTION
@STATE_OPTION
@FEE_OPTION
@click.argument("amount", type=click.IntRange(1, notes.MAX_VALUE))
def shield_command(wallet_path, state_path, fee, amount):
    """Move AMOUNT from the public account into a note."""
    wallet, ledger = _open(wallet_path, state_path)
    plan = wallet.plan_shield(ledger.pool.tree, amount, fee)
    _prove_and_submit(wallet, ledger, plan, wallet_path, state_path)


@wallet_group.command("transfer")
@WALLET_OPTION
@STATE_OPTION
@FEE_OPTION
@click.argument("address")
@click.argument("amount", type=click.IntRange(1, notes.MAX_VALUE))
def transfer_command(wallet_path, state_path, fee, address, amount):
    """Send AMOUNT to a shielded ADDRESS (hex)."""
    try:
        address_bytes = bytes.fromhex(address)
    except ValueError:
        raise ConfigError("address must be hex") from None
    notes.parse_address(address_bytes)
    wallet, ledger = _open(wallet_path, state_path)
    plan = wallet.plan_transfer(ledger.pool.tree, address_bytes, amount, fee)
    _prove_and_submit(wallet, ledger, plan, wallet_path, state_path)


@wallet_group.command("unshield")
@WALLET_OPTION
@STATE_OPTION
@FEE_OPTION
@click.option("--to", "account", default=None, help="public account (default: the wallet's)")
@click.argument("amount", type=click.IntRange(1, notes.MAX_VALUE))
def unshield_command(wallet_path, state_path, fee, account, amount):
    """Move AMOUNT from notes to a public account."""
    wallet, ledger = _open(wallet_path, state_path)
    plan = wallet.plan_unshield(ledger.pool.tree, amount, account or wallet.account, fee)
    _prove_and_submit(wallet, ledger, plan, wallet_path, state_path)
