"""hw/: every board profile loads and the console's status reports its caps; the systemd units
pass systemd-analyze; udev rules and PKCS#11 module profiles are well-formed (SoftHSM2's module is
opened for real)."""
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from dusk_edge.boards import list_boards, load_board
from dusk_edge.console_api import InProcessNodeControl, demo_state
from dusk_edge.core.console.session import Session
from tests.conftest import missing_component, require

ROOT = Path(__file__).resolve().parent.parent
HW = ROOT / "hw"
EXPECTED_BOARDS = {"generic", "pi4", "pi-zero-2w", "pi3bplus", "pi5", "cm4"}


def test_every_profile_is_installed_as_data():
    cfg = (ROOT / "setup.cfg").read_text()
    for name in EXPECTED_BOARDS:
        assert "hw/boards/%s.toml" % name in cfg
    for path in list(HW.glob("systemd/*")) + list(HW.glob("udev/*")) + list(HW.glob("hsm/*.toml")):
        assert "hw/%s" % path.relative_to(HW) in cfg, path


@pytest.mark.twin
@pytest.mark.parametrize("name", sorted(EXPECTED_BOARDS))
def test_board_loads_and_console_status_shows_its_caps(name):
    assert name in list_boards()
    profile = load_board(name)
    session = Session(InProcessNodeControl(demo_state(), board=profile), now=0)
    session.data_to_send()
    session.receive_data(b"status\r", 0)
    out = session.data_to_send().decode("ascii")
    assert "board: %s" % name in out
    for key, value in profile["caps"].items():
        shown = {True: "yes", False: "no"}.get(value, str(value))
        assert "caps.%s: %s" % (key, shown) in out, (name, key)


def test_board_detection_by_device_tree_model(tmp_path):
    models = {"Raspberry Pi Zero 2 W Rev 1.0": "pi-zero-2w", "Raspberry Pi 3 Model B Plus Rev 1.3": "pi3bplus",
              "Raspberry Pi 4 Model B Rev 1.5": "pi4", "Raspberry Pi 5 Model B Rev 1.0": "pi5",
              "Raspberry Pi Compute Module 4 Rev 1.1": "cm4", "QEMU Virtual Machine": "generic"}
    from dusk_edge.boards import detect_board

    for model, expected in models.items():
        path = tmp_path / "model"
        path.write_bytes(model.encode() + b"\x00")
        assert detect_board(str(path))["name"] == expected


@pytest.mark.parametrize("unit", ["dusk-edge.service", "dusk-edge-console@.service"])
def test_systemd_units_verify(unit, tmp_path):
    require("systemd-analyze")
    text = (HW / "systemd" / unit).read_text()
    for directive in ("ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=", "Restart=always"):
        assert directive in text
    if unit == "dusk-edge.service":
        assert "Type=notify" in text and re.search(r"^WatchdogSec=\d+", text, re.M)
    else:
        assert "Requires=dusk-edge" not in text  # the console must outlive a dead node
    name = unit.replace("@.", "@ttyS0.")
    (tmp_path / name).write_text(text.replace("/usr/bin/dusk-edge", shutil.which("true")))
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / name)], capture_output=True, text=True,
                            timeout=60)
    problems = [line for line in result.stderr.splitlines() if "dev-ttyS0.device" not in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_udev_rules_are_well_formed():
    keys = {"SUBSYSTEM", "ATTRS{idVendor}", "ATTRS{idProduct}", "SYMLINK", "GROUP", "MODE", "TAG"}
    rules = [line for line in (HW / "udev" / "90-dusk-edge.rules").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(rules) >= 7
    for line in rules:
        for part in line.split(", "):
            match = re.fullmatch(r'([A-Z]+(?:\{\w+\})?)(==|\+=|=)"([^"]*)"', part.strip())
            assert match and match.group(1) in keys, part
    usb_ids = set()
    for profile in HW.glob("hsm/*.toml"):
        usb_ids.update(tomllib.loads(profile.read_text())["usb_ids"])
    text = (HW / "udev" / "90-dusk-edge.rules").read_text()
    for usb_id in usb_ids:
        vendor, product = usb_id.split(":")
        assert 'ATTRS{idVendor}=="%s", ATTRS{idProduct}=="%s"' % (vendor, product) in text


HSM_KEYS = {"format": int, "name": str, "title": str, "modules": list, "owner_keys": list, "ecdsa_prehash": bool,
            "aes_key_wrap": bool, "token_label": str, "pin_format": str, "usb_ids": list, "services": list,
            "notes": str, "env": dict}


@pytest.mark.parametrize("path", sorted(HW.glob("hsm/*.toml")), ids=lambda p: p.stem)
def test_hsm_profiles(path):
    profile = tomllib.loads(path.read_text())
    assert set(profile) == set(HSM_KEYS)
    for key, kind in HSM_KEYS.items():
        assert isinstance(profile[key], kind), key
    assert profile["format"] == 1 and profile["name"] == path.stem
    assert profile["owner_keys"] and set(profile["owner_keys"]) <= {"ed25519", "p256"}
    assert all(m.startswith("/") and m.endswith(".so") for m in profile["modules"])
    assert all(re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{4}", u) for u in profile["usb_ids"])


def test_softhsm2_profile_module_opens():
    pkcs11 = pytest.importorskip("pkcs11")
    profile = tomllib.loads((HW / "hsm" / "softhsm2.toml").read_text())
    found = [m for m in profile["modules"] if Path(m).exists()]
    if not found:
        missing_component("softhsm2 is not installed (no module at %s)" % profile["modules"])
    lib = pkcs11.lib(found[0])
    assert "SoftHSM" in lib.manufacturer_id or "SoftHSM" in lib.library_description
