# Theory of operation: the companion board's whole behaviour, sans-I/O (step(now, rx) -> tx).
# It sits on the node's UART and
#   - decodes frames (dusk_edge/core/frame.py, the same file the node uses) carrying CBOR;
#   - shows the node's last heartbeat (height, finality, peers, state) on a small text display;
#   - is an external watchdog: once a heartbeat has been seen, silence for timeout_ms drives the
#     reset pin for pulse_ms; after a reset it waits grace_ms for the node to come back and
#     tries again at most max_resets times in a row, then gives up (and says so) rather than
#     power-cycling a broken node forever;
#   - keeps recent events in a ring on its flash (ring.py) and reports them to the node.
# States: WAITING (no heartbeat yet) -> ARMED -> RESETTING -> GRACE -> ARMED | RESETTING | GAVE_UP.
# Time is `now` in ms from a counter that does not wrap (main.py accumulates ticks_diff).
from dusk_edge.core import cbor
from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.core.frame import FrameLink, KIND_DATA

WAITING = "waiting"
ARMED = "armed"
RESETTING = "resetting"
GRACE = "grace"
GAVE_UP = "gave-up"


class Companion:
    def __init__(self, reset_pin, display, ring, now=0, timeout_ms=30000, pulse_ms=500,
                 grace_ms=120000, max_resets=3, initial_seq=0):
        self.reset_pin = reset_pin
        self.display = display
        self.ring = ring
        self.timeout_ms = timeout_ms
        self.pulse_ms = pulse_ms
        self.grace_ms = grace_ms
        self.max_resets = max_resets
        self.link = FrameLink(initial_seq=initial_seq, max_payload=1024)
        self.state = WAITING
        self.last_hb = None
        self.heartbeat = {}
        self.resets_in_row = 0
        self.deadline = None
        self.bad_messages = 0
        self.reset_pin.off()
        self.record(now, "boot")
        self.refresh()

    def record(self, now, event, detail=""):
        self.ring.append(now, event if not detail else event + " " + detail)
        self.link.send_note(cbor.encode({"t": "ev", "ev": event, "at": now, "detail": detail}))

    def step(self, now, rx):
        """Feed UART bytes; returns bytes to write to the UART."""
        for frame in self.link.receive_data(rx, now):
            self._on_frame(frame, now)
        delivered, _ = self.link.handle_timer(now)
        for frame in delivered:
            self._on_frame(frame, now)
        self._tick(now)
        return self.link.data_to_send()

    def _on_frame(self, frame, now):
        try:
            message = cbor.decode(frame.payload)
        except DuskEdgeError:
            self.bad_messages += 1
            return
        if not isinstance(message, dict):
            self.bad_messages += 1
            return
        if message.get("t") == "hb":
            self._on_heartbeat(message, now)
        elif frame.kind == KIND_DATA:
            self._on_request(message, now)

    def _on_heartbeat(self, message, now):
        self.last_hb = now
        self.heartbeat = message
        if self.state in (WAITING, GRACE, GAVE_UP):
            if self.state != WAITING:
                self.record(now, "node-back", "after %d reset(s)" % self.resets_in_row)
            self.state = ARMED
            self.resets_in_row = 0
        self.refresh()

    def _on_request(self, message, now):
        cmd = message.get("cmd")
        if cmd == "events":
            result = [{"seq": s, "at": a, "text": t} for s, a, t in self.ring.events()]
        elif cmd == "status":
            result = {"state": self.state, "resets_in_row": self.resets_in_row, "last_hb": self.last_hb,
                      "bad_messages": self.bad_messages}
        else:
            result = None
        reply = {"id": message.get("id"), "ok": result is not None}
        reply["result" if result is not None else "error"] = result if result is not None else "unknown command"
        self.link.send(cbor.encode(reply), now)

    def _tick(self, now):
        if self.state == ARMED and now - self.last_hb >= self.timeout_ms:
            self._fire(now, "heartbeat lost for %d ms" % (now - self.last_hb))
        elif self.state == RESETTING and now >= self.deadline:
            self.reset_pin.off()
            self.state = GRACE
            self.deadline = now + self.grace_ms
            self.refresh()
        elif self.state == GRACE and now >= self.deadline:
            if self.resets_in_row >= self.max_resets:
                self.state = GAVE_UP
                self.record(now, "gave-up", "%d resets without a heartbeat" % self.resets_in_row)
                self.refresh()
            else:
                self._fire(now, "no heartbeat after reset")

    def _fire(self, now, why):
        self.reset_pin.on()
        self.state = RESETTING
        self.deadline = now + self.pulse_ms
        self.resets_in_row += 1
        self.record(now, "reset", why)
        self.refresh()

    def refresh(self):
        hb = self.heartbeat
        self.display.show([
            "DUSK %s" % self.state,
            "h %s f %s" % (hb.get("height", "-"), hb.get("final", "-")),
            "peers %s %s" % (hb.get("peers", "-"), hb.get("state", "")),
            "resets %d" % self.resets_in_row,
        ])
