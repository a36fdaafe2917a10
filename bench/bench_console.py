"""Serial-line stack speed: CBOR codec vs cbor2, frame decoding (C vs pure CRC), a console command
through the Session, and the companion firmware step on real MicroPython vs CPython.
Every figure has a baseline measured in the same run. `python -m bench console`."""
import os
import subprocess
import sys
import time
from pathlib import Path

import cbor2

from bench.common import median_ms, write_results
from dusk_edge.boards import load_board
from dusk_edge.console_api import InProcessNodeControl, demo_state
from dusk_edge.core import _native, accel, cbor, frame
from dusk_edge.core.console.render import render_result
from dusk_edge.core.console.session import Session

ROOT = Path(__file__).resolve().parent.parent
MPY_MJS = ROOT / ".cache/mpy/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs"


def bench_cbor():
    control = InProcessNodeControl(demo_state(), board=load_board("pi4"))
    value = {"id": 1, "ok": True, "result": control.status(), "blocks": control.blocks(10)}
    data = cbor.encode(value)
    ours = median_ms(lambda: cbor.decode(cbor.encode(value)), inner=200)
    theirs = median_ms(lambda: cbor2.loads(cbor2.dumps(value, canonical=True)), inner=200)
    return {"bytes": len(data), "ours_ms": ours, "cbor2_ms": theirs, "ratio_vs_cbor2": ours / theirs}


def bench_frames():
    stream = b"".join(frame.encode_frame(0, i, bytes(100)) for i in range(200))
    results = {}
    for name, backend in (("c", accel.SPEEDUPS), ("pure", _native)):
        if backend is None:
            continue
        previous = accel.use(backend)
        try:
            results[name + "_ms_per_200"] = median_ms(lambda: frame.FrameDecoder().feed(stream), runs=7)
        finally:
            accel.use(previous)
    if "c_ms_per_200" in results:
        results["c_speedup_vs_pure"] = results["pure_ms_per_200"] / results["c_ms_per_200"]
    return results


def bench_session():
    control = InProcessNodeControl(demo_state(), board=load_board("pi4"))
    session = Session(control, now=0)

    def command():
        session.receive_data(b"status\r", 0)
        session.data_to_send()

    via_session = median_ms(command, inner=200)
    direct = median_ms(lambda: render_result("status", control.status()), inner=200)
    return {"status_via_session_ms": via_session, "render_only_ms": direct, "ratio_vs_render": via_session / direct}


def bench_firmware():
    if not MPY_MJS.exists():
        return {"skipped": "wasm MicroPython not installed in .cache/mpy"}
    sys.path.insert(0, str(ROOT / "firmware"))
    from companion import Companion  # CPython baseline: the very same firmware code
    from dusk_edge.core.console.companion import CompanionLink

    out = ROOT / "build" / "bench-firmware"
    subprocess.run([sys.executable, str(ROOT / "firmware" / "build.py"), str(out)], check=True, capture_output=True)
    (out / "board_bridge.py").write_bytes((ROOT / "firmware" / "board_bridge.py").read_bytes())
    node = CompanionLink(hb_interval_ms=0)
    beats = []
    for now in range(200):
        node.tick(now, {"height": 1042, "final": 1039, "peers": 3, "state": "running"})
        beats.append(node.data_to_send())
    script = "".join("STEP %d %s\n" % (i, b.hex()) for i, b in enumerate(beats)) + "QUIT\n"
    cmd = ["node", str(ROOT / "tests" / "firmware_runner.mjs"), str(MPY_MJS), str(out)]
    boot_only = median_ms(lambda: subprocess.run(cmd, input="QUIT\n", capture_output=True, text=True), runs=5)
    full = median_ms(lambda: subprocess.run(cmd, input=script, capture_output=True, text=True), runs=5)

    class Nothing:
        def on(self):
            pass

        def off(self):
            pass

        def show(self, lines):
            pass

        def append(self, at, text):
            pass

    app = Companion(Nothing(), Nothing(), Nothing())
    cpython = median_ms(lambda: [app.step(i, b) for i, b in enumerate(beats)], runs=5) / len(beats)
    mpy = (full - boot_only) / len(beats)
    return {"micropython_ms_per_step": mpy, "cpython_ms_per_step": cpython, "ratio_vs_cpython": mpy / cpython,
            "note": "wasm MicroPython step includes the stdin/stdout bridge"}


def main():
    results = {"cbor": bench_cbor(), "frames": bench_frames(), "session": bench_session(),
               "firmware": bench_firmware()}
    for area, figures in results.items():
        print(area, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()})
    print("wrote", write_results("console", results))


if __name__ == "__main__":
    main()
