"""Board profiles: every shipped profile loads, detection works, bad profiles name the field."""
import pytest

from dusk_edge.boards import detect_board, list_boards, load_board, validate_board
from dusk_edge.core.errors import ConfigError

pytestmark = pytest.mark.twin


def test_every_shipped_profile_loads():
    names = list_boards()
    assert "pi4" in names and "generic" in names
    for name in names:
        profile = load_board(name)
        assert profile["name"] == name
        assert profile["caps"]["memory_mb"] <= profile["ram_mb"]


def test_detect_by_device_tree_model(tmp_path):
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    assert detect_board(str(model))["name"] == "pi4"
    assert detect_board(str(tmp_path / "missing"))["name"] == "generic"


def good():
    profile = load_board("pi4")
    profile["caps"] = dict(profile["caps"])
    return profile


@pytest.mark.parametrize("mutate,field", [
    (lambda p: p.update(storage="floppy"), "storage"),
    (lambda p: p.update(arch="mips"), "arch"),
    (lambda p: p.update(colour="red"), "colour"),
    (lambda p: p.pop("uart"), "uart"),
    (lambda p: p.update(ram_mb="4G"), "ram_mb"),
    (lambda p: p["caps"].update(mempool_max_txs=5), "caps.mempool_max_txs"),
    (lambda p: p["caps"].update(prune="yes"), "caps.prune"),
    (lambda p: p["caps"].update(memory_mb=99999), "caps.memory_mb"),
    (lambda p: p["caps"].update(turbo=True), "caps.turbo"),
])
def test_bad_profiles_name_the_field(mutate, field):
    profile = good()
    mutate(profile)
    with pytest.raises(ConfigError) as err:
        validate_board(profile)
    assert field in str(err.value)


def test_unknown_board_lists_known_ones():
    with pytest.raises(ConfigError) as err:
        load_board("pi99")
    assert "pi4" in str(err.value)
