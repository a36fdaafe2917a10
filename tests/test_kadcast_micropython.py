"""The Kadcast core runs on real MicroPython (the npm wasm port, via tests/core/run_mpy.mjs):
ping/pong and table insert, a broadcast through rs FEC, rs decoding from repair symbols."""
import os
import shutil
import subprocess

import pytest

from tests.conftest import missing_component, require

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPY = os.path.join(ROOT, ".cache", "mpy", "node_modules", "@micropython",
                   "micropython-webassembly-pyscript", "micropython.mjs")

MPY_TEST = '''
import expect
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast import rs
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.peer import Peer


class FirstPicks:
    def sample(self, seq, k):
        return list(seq)[:k]

    def choice(self, seq):
        return seq[0]


def test_ping_pong_and_broadcast():
    fec = rs.RsScheme()
    a = Peer(b"\\x0a\\x00\\x00\\x01", 9000, fec, FirstPicks(), KadcastConfig(pow_bits=8))
    b = Peer(b"\\x0a\\x00\\x00\\x02", 9000, fec, FirstPicks(), KadcastConfig(pow_bits=8))
    h = m.Header(a.id, a.nonce, a.port, 0x45)
    b.receive_datagram(m.encode_message(m.Message(m.PING, h, version=(0, 1, 0))), a.addr, 0)
    out = b.datagrams_to_send(0)
    expect.true(len(out) == 1 and m.decode_message(out[0][0]).kind == m.PONG, "pong")
    a.receive_datagram(out[0][0], b.addr, 1)
    expect.true(len(a.table) == 1, "inserted")
    a.broadcast(b"hello kadcast" * 20, None, 2)
    for data, addr in a.datagrams_to_send(2):
        b.receive_datagram(data, a.addr, 3)
    ev = b.next_event()
    expect.true(ev is not None and ev.payload == b"hello kadcast" * 20, "delivered")


def test_rs_decodes_from_repair_symbols():
    data = bytes(range(256)) * 20
    enc = rs.RsEncoder(data)
    dec = rs.RsDecoder(len(data), enc.symbol_size, enc.num_blocks)
    out = None
    k = enc.sizes[0]
    for esi in list(range(1, k)) + [k, k + 1]:
        out = dec.add(0, esi, enc.symbol(0, esi)) or out
    expect.true(out == data, "rs decoded")
'''


def test_kadcast_core_on_micropython(tmp_path):
    require("node")
    if not os.path.exists(MPY):
        missing_component("MicroPython wasm port not installed (make mpy-test installs it)")
    root = tmp_path / "root"
    (root / "dusk_edge").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "dusk_edge", "__init__.py"), root / "dusk_edge")
    shutil.copytree(os.path.join(ROOT, "dusk_edge", "core"), root / "dusk_edge" / "core",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(ROOT, "tests", "core"), root / "tests" / "core",
                    ignore=shutil.ignore_patterns("__pycache__", "test_*.py"))
    (root / "tests" / "core" / "test_kadcast_mpy.py").write_text(MPY_TEST)
    done = subprocess.run(["node", os.path.join(ROOT, "tests", "core", "run_mpy.mjs"), MPY, str(root),
                           "test_kadcast_mpy"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 passed, 0 failed" in done.stdout
