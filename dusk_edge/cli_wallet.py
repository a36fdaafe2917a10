"""`dusk-edge wallet ...`: shielded wallet commands (issue 11).

With --node SOCKET the wallet talks to a running node (its status socket): it syncs outputs and
spent nullifiers from the node, proves locally (snarkjs) and submits a ledger transaction of kind
"shielded" signed by the public account of --key-file (which pays public_in and, on unshield,
receives public_out unless --to names another account). The fee is the ledger's: the kind's gas
times --gas-price, paid out of the shielded pool. `balance` counts notes of final blocks.

Without --node the wallet works against a local ledger state file (--state) that stands in for
the node: it holds public balances, the shielded pool and the verifying key fixed when it was
created. `init` creates both files (and the circuit artifacts on first use); shield, transfer and
unshield prove in node via snarkjs and submit to the state file with the node's own pool rules.
"""
import click

from dusk_edge.core.errors import ConfigError
from dusk_edge.zk import notes

WALLET_OPTION = click.option("--wallet", "wallet_path", default="wallet.json", show_default=True,
                             type=click.Path(dir_okay=False), help="wallet file")
STATE_OPTION = click.option("--state", "state_path", default="shielded-state.json", show_default=True,
                            type=click.Path(dir_okay=False), help="local ledger state file")
FEE_OPTION = click.option("--fee", default=0, show_default=True, type=click.IntRange(0, notes.MAX_VALUE),
                          help="public fee (local state file; a node charges gas * --gas-price)")
NODE_OPTIONS = (
    click.option("--node", "node_socket", default=None, type=click.Path(),
                 help="a running node's status socket (instead of the local state file)"),
    click.option("--key-file", default=None, type=click.Path(),
                 help="public account key file (with --node): signs, pays public_in"),
    click.option("--genesis", default="devnet", show_default=True,
                 help="preset or genesis TOML of the node's network (chain id)"),
    click.option("--gas-price", default=1, show_default=True, type=click.IntRange(1),
                 help="with --node: the fee is the shielded kind's gas times this"),
    click.option("--tx-out", default=None, type=click.Path(dir_okay=False),
                 help="with --node: also write the signed transaction (hex) to this file"),
)


def node_options(fn):
    for option in reversed(NODE_OPTIONS):
        fn = option(fn)
    return fn


class NodeSession:
    """The wallet against a node: synced ledger, signer, chain id, fee."""

    def __init__(self, wallet_path, socket_path, key_file, genesis, gas_price, tx_out=None, need_signer=True):
        from dusk_edge.core.ledger.execution import GAS_COSTS
        from dusk_edge.core.ledger.transactions import KIND_SHIELDED
        from dusk_edge.zk.wallet import NodeLedger, Wallet

        self.wallet_path = wallet_path
        self.wallet = Wallet.load(wallet_path)
        self.ledger = NodeLedger(socket_path)
        self.signer = None
        if key_file is not None:
            from dusk_edge.cli_tx import load_account_signer

            self.signer = load_account_signer(key_file)
        elif need_signer:
            raise ConfigError("--key-file is required with --node: the public account signs the transaction")
        self.genesis = genesis
        self.gas_price = gas_price
        self.tx_out = tx_out
        self.fee = GAS_COSTS[KIND_SHIELDED] * gas_price
        self.ledger.sync(self.wallet.unspent_nullifiers())
        self.wallet.scan(self.ledger.final_outputs(), self.ledger.spent)

    def account_text(self):
        from dusk_edge.core.ledger.genesis_spec import format_account_key

        return format_account_key(self.signer.account_key)

    def submit(self, plan, receiver=None):
        from dusk_edge.cli_tx import chain_id_of
        from dusk_edge.core.ledger.tx_builder import build_shielded
        from dusk_edge.zk.prover import Prover

        prover = Prover()
        (stx,) = prover.prove([plan])
        nonce = self.ledger.account(self.account_text())["nonce"] + 1
        tx = build_shielded(self.signer, stx.to_bytes(), nonce, chain_id_of(self.genesis), receiver,
                            gas_price=self.gas_price)
        if self.tx_out is not None:
            with open(self.tx_out, "w") as f:
                f.write(tx.encode().hex() + "\n")
        tx_id = self.ledger.submit(tx)
        self.wallet.save(self.wallet_path)
        click.echo("submitted %s: %d bytes, proved in %.0f ms, fee %d"
                   % (tx_id, len(tx.encode()), prover.last_proving_ms[0], self.fee))


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
@click.option("--account", default=None, help="name of the wallet's public account (local state file)")
@click.option("--fund", default=0, type=click.IntRange(0, notes.MAX_VALUE),
              help="credit the public account in a new local state file (a local faucet)")
@click.option("--for-node", is_flag=True, help="a wallet for --node use only: no local state file")
def init_command(wallet_path, state_path, account, fund, for_node):
    """Create a wallet (and the local state file if missing)."""
    import os

    from dusk_edge.zk import toolchain
    from dusk_edge.zk.verifier import verifying_key_bytes_from_snarkjs
    from dusk_edge.zk.wallet import LocalLedger, Wallet

    if os.path.exists(wallet_path):
        raise ConfigError("wallet file %s exists; refusing to overwrite its keys" % wallet_path)
    if for_node:
        wallet = Wallet.create(account or "")
        wallet.save(wallet_path)
        click.echo("address %s" % wallet.key.address.hex())
        return
    if account is None:
        raise ConfigError("--account is required for a wallet with a local state file")
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
@node_options
def balance_command(wallet_path, state_path, node_socket, key_file, genesis, gas_price, tx_out):
    """Shielded and public balances (with --node: notes of final blocks)."""
    if node_socket is not None:
        session = NodeSession(wallet_path, node_socket, key_file, genesis, gas_price, need_signer=False)
        wallet, ledger = session.wallet, session.ledger
        wallet.save(wallet_path)
        unspent = [n for n in wallet.owned if not n["spent"] and n["value"]]
        click.echo("shielded %d in %d notes" % (wallet.shielded_balance(), len(unspent)))
        if session.signer is not None:
            click.echo("public   %d (account %s)" % (ledger.account(session.account_text())["balance"],
                                                     session.account_text()))
        click.echo("notes    %d final, %d pending" % (ledger.final_total, len(ledger.outputs) - ledger.final_total))
        return
    wallet, ledger = _open(wallet_path, state_path)
    wallet.save(wallet_path)
    unspent = [n for n in wallet.owned if not n["spent"] and n["value"]]
    click.echo("shielded %d in %d notes" % (wallet.shielded_balance(), len(unspent)))
    click.echo("public   %d (account %s)" % (ledger.public_balance(wallet.account), wallet.account))


def _no_fee_with_node(fee):
    if fee:
        raise ConfigError("--fee applies to the local state file; a node charges gas * --gas-price")


@wallet_group.command("shield")
@WALLET_OPTION
@STATE_OPTION
@FEE_OPTION
@node_options
@click.argument("amount", type=click.IntRange(1, notes.MAX_VALUE))
def shield_command(wallet_path, state_path, fee, node_socket, key_file, genesis, gas_price, tx_out, amount):
    """Move AMOUNT from the public account into a note."""
    if node_socket is not None:
        _no_fee_with_node(fee)
        session = NodeSession(wallet_path, node_socket, key_file, genesis, gas_price, tx_out)
        session.submit(session.wallet.plan_shield(session.ledger.tree, amount, session.fee,
                                                  session.signer.account_key.encode()))
        return
    wallet, ledger = _open(wallet_path, state_path)
    plan = wallet.plan_shield(ledger.pool.tree, amount, fee)
    _prove_and_submit(wallet, ledger, plan, wallet_path, state_path)


@wallet_group.command("transfer")
@WALLET_OPTION
@STATE_OPTION
@FEE_OPTION
@node_options
@click.argument("address")
@click.argument("amount", type=click.IntRange(1, notes.MAX_VALUE))
def transfer_command(wallet_path, state_path, fee, node_socket, key_file, genesis, gas_price, tx_out, address,
                     amount):
    """Send AMOUNT to a shielded ADDRESS (hex)."""
    try:
        address_bytes = bytes.fromhex(address)
    except ValueError:
        raise ConfigError("address must be hex") from None
    notes.parse_address(address_bytes)
    if node_socket is not None:
        _no_fee_with_node(fee)
        session = NodeSession(wallet_path, node_socket, key_file, genesis, gas_price, tx_out)
        session.submit(session.wallet.plan_transfer(session.ledger.tree, address_bytes, amount, session.fee, b""))
        return
    wallet, ledger = _open(wallet_path, state_path)
    plan = wallet.plan_transfer(ledger.pool.tree, address_bytes, amount, fee)
    _prove_and_submit(wallet, ledger, plan, wallet_path, state_path)


@wallet_group.command("unshield")
@WALLET_OPTION
@STATE_OPTION
@FEE_OPTION
@node_options
@click.option("--to", "account", default=None,
              help="public account (default: the wallet's; with --node an account key, e.g. bls:<hex>)")
@click.argument("amount", type=click.IntRange(1, notes.MAX_VALUE))
def unshield_command(wallet_path, state_path, fee, node_socket, key_file, genesis, gas_price, tx_out, account,
                     amount):
    """Move AMOUNT from notes to a public account."""
    if node_socket is not None:
        from dusk_edge.core.ledger.genesis_spec import parse_account_key

        _no_fee_with_node(fee)
        session = NodeSession(wallet_path, node_socket, key_file, genesis, gas_price, tx_out)
        receiver = parse_account_key(account, "--to") if account else session.signer.account_key
        session.submit(session.wallet.plan_unshield(session.ledger.tree, amount, receiver.encode(), session.fee),
                       receiver)
        return
    wallet, ledger = _open(wallet_path, state_path)
    plan = wallet.plan_unshield(ledger.pool.tree, amount, account or wallet.account, fee)
    _prove_and_submit(wallet, ledger, plan, wallet_path, state_path)
