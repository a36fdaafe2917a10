"""Genesis TOML, presets and NetworkProfile constants (DESIGN.md §4)."""
import pytest

from dusk_edge.core.errors import ConfigError
from dusk_edge.core.ledger.genesis_spec import GenesisSpec, build_genesis
from dusk_edge.core.ledger.profile import DUSK, NetworkProfile
from dusk_edge.genesis import genesis_state, load_genesis, parse_genesis_toml
from tests.test_ledger_support import genesis_doc

pytestmark = pytest.mark.twin


def test_dusk_profile_is_protocol_constants():
    p = load_genesis("dusk").profile
    assert (p.chain_id, p.network_id, p.fec, p.time_scale, p.epoch_blocks) == (0x40, 0x45, "raptorq", 1, 2160)
    assert p.minimum_stake == 1000 * DUSK
    assert (p.minimum_block_time_ms, p.min_step_timeout_ms, p.max_step_timeout_ms, p.timeout_increase_ms) == (
        10000, 7000, 40000, 2000)
    assert p.timeout_rounding_ms == 1000 and p.min_emergency_block_time_ms == 6120000
    assert (p.max_iterations, p.validation_credits, p.ratification_credits, p.emergency_iteration_threshold) == (
        50, 64, 64, 16)
    assert (p.max_block_size, p.max_transactions, p.max_faults, p.min_gas_limit) == (1048576, 1000, 100, 150000)


def test_devnet_profile_divides_durations_by_five():
    p = load_genesis("devnet").profile
    assert (p.chain_id, p.fec, p.time_scale, p.epoch_blocks) == (0x41, "rs", 5, 20)
    assert (p.minimum_block_time_ms, p.min_step_timeout_ms, p.max_step_timeout_ms, p.timeout_increase_ms,
            p.timeout_rounding_ms) == (2000, 1400, 8000, 400, 200)
    assert p.round_timeout_up(1401) == 1600 and p.clamp_step_timeout(100) == 1400
    dusk = NetworkProfile.dusk()
    assert dusk.round_timeout_up(8001) == 9000 and dusk.clamp_step_timeout(50000) == 40000


def test_presets_build_distinct_genesis_states():
    dusk_state, dusk_header = genesis_state("dusk")
    dev_state, dev_header = genesis_state("devnet")
    assert dusk_state.check_supply() and dev_state.check_supply()
    assert dusk_header.hash != dev_header.hash
    assert dusk_header.check_hash() and dusk_state.tip_hash == dusk_header.hash
    assert len(dev_state.get_provisioners(0)) == 4


@pytest.mark.parametrize("field,value,words", [
    ("chain_id", 1, ["chain_id", "0x40"]),
    ("chain_id", 256, ["chain_id"]),
    ("network_id", 1, ["network_id", "0x45"]),
    ("fec", "ldpc", ["fec", "raptorq", "rs"]),
    ("time_scale", 0, ["time_scale"]),
    ("epoch_blocks", "20", ["epoch_blocks"]),
    ("protocol_version", "1.0", ["protocol_version", "MAJOR.MINOR.PATCH"]),
    ("genesis_seed", "00" * 47, ["genesis_seed", "48"]),
    ("genesis_timestamp", -1, ["genesis_timestamp"]),
    ("emergency_key", "zz", ["emergency_key"]),
    ("dusk_fund", "rsa:00", ["dusk_fund", "bls", "ed25519"]),
    ("dusk_fund", "ed25519:00", ["dusk_fund", "32"]),
    ("provisioners", {}, ["provisioners"]),
    ("balances", [{"account": "x"}], ["balances[0]", "amount"]),
])
def test_bad_genesis_names_the_field_and_allowed_values(field, value, words):
    doc = genesis_doc()
    doc[field] = value
    with pytest.raises(ConfigError) as info:
        GenesisSpec.from_dict(doc)
    for word in words:
        assert word in str(info.value)


def test_missing_unknown_and_provisioner_errors():
    doc = genesis_doc()
    del doc["fec"]
    with pytest.raises(ConfigError, match="fec: missing"):
        GenesisSpec.from_dict(doc)
    doc = genesis_doc()
    doc["colour"] = "red"
    with pytest.raises(ConfigError, match="colour: unknown"):
        GenesisSpec.from_dict(doc)
    doc = genesis_doc()
    doc["provisioners"].append(dict(doc["provisioners"][0]))
    with pytest.raises(ConfigError, match=r"provisioners\[2\].account: duplicate"):
        GenesisSpec.from_dict(doc)
    doc = genesis_doc()
    doc["provisioners"][0]["stake"] = 999 * DUSK
    with pytest.raises(ConfigError, match=r"provisioners\[0\].stake"):
        GenesisSpec.from_dict(doc)
    doc = genesis_doc()
    doc["overrides"] = {"no_such_constant": 1}
    with pytest.raises(ConfigError, match="no_such_constant"):
        GenesisSpec.from_dict(doc)


def test_toml_file_round_trip_and_errors(tmp_path):
    spec = GenesisSpec.from_dict(genesis_doc())
    doc = spec.to_dict()
    lines = []
    for key, value in doc.items():
        if isinstance(value, list):
            continue
        lines.append("%s = %s" % (key, '"%s"' % value if isinstance(value, str) else value))
    for table in ("provisioners", "balances"):
        for item in doc[table]:
            lines.append("[[%s]]" % table)
            for key, value in item.items():
                lines.append("%s = %s" % (key, '"%s"' % value if isinstance(value, str) else value))
    path = tmp_path / "genesis.toml"
    path.write_text("\n".join(lines) + "\n")
    loaded = load_genesis(str(path))
    assert loaded.to_dict() == doc
    assert build_genesis(loaded)[0].state_hash() == build_genesis(spec)[0].state_hash()
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_genesis_toml("chain_id = = 3")
    with pytest.raises(ConfigError, match="neither a preset"):
        load_genesis(str(tmp_path / "missing.toml"))
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_genesis(str(tmp_path / "bin.toml"))


def test_cli_genesis_check(tmp_path):
    import json

    from click.testing import CliRunner

    from dusk_edge.cli import main

    result = CliRunner().invoke(main, ["genesis", "check", "dusk"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["chain_id"] == 0x40 and summary["minimum_block_time_ms"] == 10000
    bad = tmp_path / "bad.toml"
    text = open(load_genesis.__globals__["preset_path"]("devnet")).read().replace("chain_id = 0x41", "chain_id = 0x03")
    bad.write_text(text)
    result = CliRunner().invoke(main, ["genesis", "check", str(bad)])
    assert result.exit_code == 2 and "chain_id" in result.output and "0x40" in result.output


def test_genesis_supply_must_leave_room_for_emission():
    doc = genesis_doc()
    doc["balances"][0]["amount"] = (1 << 63)
    with pytest.raises(ConfigError, match="genesis supply"):
        GenesisSpec.from_dict(doc)


def test_bls_keys_in_a_genesis_file_are_curve_checked():
    text = open(load_genesis.__globals__["preset_path"]("devnet")).read()
    first_account = text.split('account = "', 1)[1].split('"', 1)[0]
    bad = text.replace(first_account, "a0" + "00" * 95, 1)
    with pytest.raises(ConfigError, match=r"provisioners\[0\].account: not a valid"):
        parse_genesis_toml(bad)
