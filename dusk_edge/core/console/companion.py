# Theory of operation: the node's side of the companion-board link (firmware/ is the other
# side). Every hb_interval_ms the node sends a NOTE heartbeat {"t": "hb", ...} with a few status
# fields the board shows; the board's watchdog resets the node when they stop. The board sends
# NOTE events {"t": "ev", "ev": ..., "at": ..., "detail": ...} (boot, reset, node-back, gave-up)
# which the node logs, and answers DATA requests {"id", "cmd": "events"|"status"} reliably.
# Sans-I/O over FrameLink: the node's UART driver moves bytes and calls tick(now, status).
from dusk_edge.core import cbor
from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.core.frame import KIND_NOTE, FrameLink

HEARTBEAT_FIELDS = ("height", "final", "peers", "state")


class CompanionLink:
    __slots__ = ("link", "hb_interval_ms", "_next_hb", "_next_id", "bad_messages")

    def __init__(self, hb_interval_ms=5000, initial_seq=0):
        self.link = FrameLink(initial_seq=initial_seq)
        self.hb_interval_ms = hb_interval_ms
        self._next_hb = None
        self._next_id = 1
        self.bad_messages = 0

    def tick(self, now, status):
        """Send a heartbeat built from ``status`` (dict) when one is due; run link timers."""
        if self._next_hb is None or now >= self._next_hb:
            hb = {"t": "hb"}
            for key in HEARTBEAT_FIELDS:
                value = status.get(key)
                if isinstance(value, (int, str)) and not isinstance(value, bool):
                    hb[key] = value if isinstance(value, int) else value[:16]
            self.link.send_note(cbor.encode(hb))
            self._next_hb = now + self.hb_interval_ms
        timer = self.link.get_timer()
        if timer is not None and now >= timer:
            delivered, _ = self.link.handle_timer(now)
            return self._messages(delivered)
        return []

    def request(self, cmd, now):
        """Ask the board for "events" or "status"; the answer arrives as a message with this id."""
        rid = self._next_id
        self._next_id += 1
        self.link.send(cbor.encode({"id": rid, "cmd": cmd}), now)
        return rid

    def receive_data(self, data, now):
        """Decoded messages from the board (events and answers), in order."""
        return self._messages(self.link.receive_data(data, now))

    def _messages(self, frames):
        out = []
        for frame in frames:
            try:
                message = cbor.decode(frame.payload)
            except DuskEdgeError:
                self.bad_messages += 1
                continue
            if isinstance(message, dict) and (frame.kind != KIND_NOTE or message.get("t") == "ev"):
                out.append(message)
            else:
                self.bad_messages += 1
        return out

    def data_to_send(self):
        return self.link.data_to_send()

    def next_deadline(self):
        """When tick() must run next (ms)."""
        timer = self.link.get_timer()
        if self._next_hb is None:
            return 0
        return self._next_hb if timer is None else min(timer, self._next_hb)
