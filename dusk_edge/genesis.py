"""Genesis files (DESIGN.md §4) on CPython: TOML via tomllib, the checks in core/ledger/genesis_spec.

    load_genesis("devnet")            -> GenesisSpec of a preset
    load_genesis("path/genesis.toml") -> GenesisSpec of a file
    genesis_state("devnet")           -> (State at height 0, genesis Header)

A bad genesis raises ConfigError naming the field and the values it allows.
"""
import os
import tomllib

from dusk_edge.core.errors import ConfigError
from dusk_edge.core.ledger.genesis_spec import GenesisSpec, build_genesis
from dusk_edge.presets import PRESETS, preset_path


def parse_genesis_toml(text, origin="genesis"):
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("%s: not valid TOML: %s" % (origin, exc)) from None
    spec = GenesisSpec.from_dict(doc)
    check_genesis_keys(spec)
    check_zk_keys(spec)
    return spec


def check_zk_keys(spec):
    """A genesis verifying key must decode to valid curve points with the transfer circuit's
    public-input count (ConfigError); the node builds its TransferVerifier from it."""
    from dusk_edge.core.errors import CryptoError

    vk = spec.zk_verifying_keys.get("transfer")
    if vk is None:
        return
    from dusk_edge.zk.verifier import TransferVerifier

    try:
        TransferVerifier(vk)
    except CryptoError as exc:
        raise ConfigError("zk_verifying_keys.transfer: not a transfer verifying key (%s)" % exc) from None


def check_genesis_keys(spec):
    """Curve checks the core cannot do: every BLS key must be a valid G2 point (ConfigError)."""
    from dusk_edge.core.errors import CryptoError
    from dusk_edge.core.ledger.transactions import SCHEME_BLS
    from dusk_edge.crypto import bls

    keys = [("emergency_key", spec.emergency_key)]
    keys += [("provisioners[%d].account" % i, p[0]) for i, p in enumerate(spec.provisioners)]
    keys += [("provisioners[%d].owner" % i, p[1].key) for i, p in enumerate(spec.provisioners)
             if p[1].scheme == SCHEME_BLS]
    keys += [("balances[%d].account" % i, b[0].key) for i, b in enumerate(spec.balances) if b[0].scheme == SCHEME_BLS]
    if spec.dusk_fund.scheme == SCHEME_BLS:
        keys.append(("dusk_fund", spec.dusk_fund.key))
    for field, key in keys:
        try:
            bls.load_public_key(key)
        except CryptoError as exc:
            raise ConfigError("%s: not a valid BLS12-381 G2 public key (%s)" % (field, exc)) from None


def load_genesis(source):
    """A preset name or a path to a genesis TOML -> GenesisSpec."""
    path = preset_path(source)
    if path is None:
        if not os.path.exists(source):
            raise ConfigError("genesis: %r is neither a preset (%s) nor a file" % (source, ", ".join(PRESETS)))
        path = source
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("%s: not UTF-8 text" % path) from None
    return parse_genesis_toml(text, path)


def genesis_state(source):
    """(State, genesis Header) of a preset or file."""
    return build_genesis(load_genesis(source))


def summarize_genesis(spec):
    """A JSON-friendly summary: the profile, the genesis hash and state hash, supply totals."""
    state, header = build_genesis(spec)
    p = spec.profile
    return {
        "name": spec.name, "chain_id": p.chain_id, "network_id": p.network_id, "fec": p.fec,
        "time_scale": p.time_scale, "epoch_blocks": p.epoch_blocks, "minimum_stake": p.minimum_stake,
        "minimum_block_time_ms": p.minimum_block_time_ms, "provisioners": len(spec.provisioners),
        "accounts": len(spec.balances), "genesis_supply": state.genesis_supply,
        "state_hash": header.state_hash.hex(), "genesis_hash": header.hash.hex(),
        "shielded": "transfer" in spec.zk_verifying_keys,
    }


try:
    import click

    @click.group("genesis")
    def genesis_group():
        """Genesis files and the dusk / devnet presets."""

    @genesis_group.command("check")
    @click.argument("source")
    def genesis_check(source):
        """Check a genesis TOML (or a preset name) and print its summary as JSON; a bad field
        is reported by name with the allowed values."""
        import json

        click.echo(json.dumps(summarize_genesis(load_genesis(source)), indent=1, sort_keys=True))

except ImportError:  # click is a CLI extra; the loader works without it
    genesis_group = None
