# The companion firmware on a simulated board: the wasm MicroPython test runner
# (tests/firmware_runner.mjs) registers a JS module `jsboard` whose UART, pin and display calls
# are piped to the CPython node side. Bytes cross as hex strings.
import binascii

import jsboard

from companion import Companion
from display import TextDisplay
from pins import OutputPin
from ring import EventRing


class BridgePin:
    def __init__(self, name):
        self.name = name

    def value(self, v):
        jsboard.pin_write(self.name, v)


class BridgePanel:
    def show(self, lines):
        jsboard.display(" | ".join(lines))


class BridgeBoard:
    def __init__(self, now, timeout_ms, pulse_ms, grace_ms, max_resets):
        self.app = Companion(OutputPin(BridgePin("reset")), TextDisplay(BridgePanel()), EventRing("/events.bin"),
                             now=now, timeout_ms=timeout_ms, pulse_ms=pulse_ms, grace_ms=grace_ms,
                             max_resets=max_resets, initial_seq=4242)

    def step(self, now, rx_hex):
        tx = self.app.step(now, binascii.unhexlify(rx_hex))
        if tx:
            jsboard.uart_write(binascii.hexlify(tx).decode())

    def dump_events(self):
        for seq, at, text in self.app.ring.events():
            jsboard.event("%d %d %s" % (seq, at, text))


def start(now=0, timeout_ms=5000, pulse_ms=200, grace_ms=3000, max_resets=2):
    return BridgeBoard(now, timeout_ms, pulse_ms, grace_ms, max_resets)
