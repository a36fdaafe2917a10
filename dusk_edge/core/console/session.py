# Theory of operation: one Session per connection (serial line, or stdin of `dusk-edge console`).
# Every byte goes to two parsers at once:
#   - the line editor (human mode): printable ASCII is collected (and echoed) up to MAX_LINE;
#     CR or LF ends a line; BS/DEL erase; Ctrl-C/Ctrl-U drop the line; other bytes are noise and
#     are ignored. A line is first a passphrase (when a LoginGate is given), then a command.
#   - a FrameLink (machine mode): the first intact frame switches the session to machine mode, in
#     which the line editor is off and requests/responses are CBOR frames (docs/frames.md). A
#     request {"cmd": "exit"} or machine_idle_ms of silence switches back.
# While the frame decoder holds a partial frame, a line end does not run the collected line:
# those bytes were frame payload, not typing. Nothing here raises on input: parse errors,
# command errors and even a failing NodeControl become error text / error responses.
from dusk_edge.core import cbor
from dusk_edge.core.console.commands import CommandError, CommandSet, make_command, parse_line, MAX_LINE
from dusk_edge.core.console.render import ascii_text, render_result, to_wire
from dusk_edge.core.errors import DuskEdgeError, LocalProtocolError
from dusk_edge.core.frame import FrameLink, HARD_MAX_PAYLOAD

PROMPT = "dusk> "
LOGIN_PROMPT = "passphrase: "
_ERASE = (0x08, 0x7F)
_KILL = (0x03, 0x15)


class Session:
    __slots__ = ("commands", "gate", "echo", "idle_logout_ms", "machine_idle_ms", "link",
                 "logged_in", "machine", "closed", "noise_bytes", "dropped_responses", "_line", "_overflow", "_text",
                 "_last_activity", "_last_frame", "_after_cr", "_escape")

    def __init__(self, control, gate=None, now=0, echo=True, idle_logout_ms=600000,
                 machine_idle_ms=60000, initial_seq=0, banner="dusk-edge console"):
        self.commands = CommandSet(control)
        self.gate = gate
        self.echo = echo
        self.idle_logout_ms = idle_logout_ms
        self.machine_idle_ms = machine_idle_ms
        self.link = FrameLink(initial_seq=initial_seq, max_payload=HARD_MAX_PAYLOAD)
        self.logged_in = gate is None
        self.machine = False
        self.closed = False
        self.noise_bytes = 0
        self.dropped_responses = 0
        self._line = bytearray()
        self._overflow = False
        self._text = bytearray()
        self._last_activity = now
        self._last_frame = now
        self._after_cr = False
        self._escape = 0  # 1 after ESC, 2 inside a CSI sequence (arrow keys): skipped, not typed
        if banner:
            self._say([banner + (" (login required)" if gate is not None else "")])
        self._prompt()

    # output ------------------------------------------------------------------------------
    def _say(self, lines):
        for line in lines:
            self._text.extend(ascii_text(line).encode() + b"\r\n")

    def _prompt(self):
        if not self.machine and not self.closed:
            self._text.extend((PROMPT if self.logged_in else LOGIN_PROMPT).encode())

    def data_to_send(self):
        """Bytes for the line (text in human mode, frames in machine mode); clears them."""
        out = bytes(self._text) + self.link.data_to_send()
        self._text = bytearray()
        return out

    # input -------------------------------------------------------------------------------
    def receive_data(self, data, now):
        """Feed bytes from the line."""
        if self.closed:
            return
        if len(data):
            self._last_activity = now
        i = 0
        # Line mode feeds the frame decoder byte by byte, so every byte is either frame (held by
        # the decoder, or completing a frame) or typing; machine mode feeds whole chunks.
        while i < len(data) and not self.machine and not self.closed:
            seen = self.link.decoder.frames
            frames = self.link.receive_data(data[i:i + 1], now)
            if frames:
                self._on_frames(frames, now)
            elif seen == self.link.decoder.frames and not self.link.decoder.pending:
                self._edit_byte(data[i], now)
            i += 1
        if i < len(data) and not self.closed:
            self._on_frames(self.link.receive_data(data[i:], now), now)

    def _edit_byte(self, b, now):
        if self._escape or b == 0x1B:
            self._skip_escape(b)
            return
        if b in (0x0D, 0x0A):
            if b == 0x0A and self._after_cr:
                self._after_cr = False
                return
            self._after_cr = b == 0x0D
            self._end_line(now)
            return
        self._after_cr = False
        if 32 <= b < 127:
            if len(self._line) < MAX_LINE:
                self._line.append(b)
                if self.echo and self.logged_in:
                    self._text.append(b)
            else:
                self._overflow = True
        elif b in _ERASE:
            if self._line:
                self._line = self._line[:-1]  # MicroPython's bytearray has no pop()
                if self.echo and self.logged_in:
                    self._text.extend(b"\x08 \x08")
        elif b in _KILL:
            self._line = bytearray()
            self._overflow = False
            if self.echo:
                self._text.extend(b"^C\r\n")
            self._prompt()
        elif b == 0x04 and not self._line and self.logged_in:
            self._logout("bye")
        else:
            self.noise_bytes += 1

    def _skip_escape(self, b):
        self.noise_bytes += 1
        if b == 0x1B:
            self._escape = 1
        elif self._escape == 1:
            self._escape = 2 if b == 0x5B else 0
        elif 0x40 <= b <= 0x7E or not 0x20 <= b < 0x40:
            self._escape = 0  # final byte (or junk) ends the sequence

    def _end_line(self, now):
        line = bytes(self._line).decode()
        overflow = self._overflow
        self._line = bytearray()
        self._overflow = False
        if self.link.decoder.pending:
            return  # frame payload that happened to contain a line end
        if self.echo:
            self._text.extend(b"\r\n")
        if overflow:
            self._say(["error: line too long (max %d characters)" % MAX_LINE])
        elif not self.logged_in:
            self._login(line, now)
        else:
            self._run_line(line)
        self._prompt()

    def _login(self, passphrase, now):
        if not passphrase:
            return
        ok, message = self.gate.attempt(passphrase, now)
        self.logged_in = ok
        self._say([message])

    def _run_line(self, line):
        try:
            command = parse_line(line)
        except CommandError as exc:
            self._say(["error: %s" % exc])
            return
        if command is None:
            return
        if command.name == "logout":
            self._logout("logged out")
            return
        ok, result = self._execute(command)
        self._say(render_result(command.name, result) if ok else ["error: %s" % result])

    def _execute(self, command):
        try:
            return True, self.commands.execute(command)
        except DuskEdgeError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - a failing node must not take the console down
            return False, "node error (%s): %s" % (type(exc).__name__, exc)

    def _logout(self, message):
        self._say([message])
        if self.gate is None:
            self.closed = True
        self.logged_in = self.gate is None

    # machine mode ------------------------------------------------------------------------
    def _on_frames(self, frames, now):
        for frame in frames:
            self._last_frame = now
            if not self.machine:
                self.machine = True
                self._line = bytearray()
            self._answer(frame.payload, now)

    def _answer(self, payload, now):
        try:
            request = cbor.decode(payload)
        except DuskEdgeError as exc:
            self._reply({"ok": False, "error": "bad request: %s" % exc}, now)
            return
        if not isinstance(request, dict):
            self._reply({"ok": False, "error": "bad request: expected a map"}, now)
            return
        response = {"ok": False}
        if "id" in request and isinstance(request["id"], int):
            response["id"] = request["id"]
        self._machine_request(request, response, now)
        self._reply(response, now)

    def _machine_request(self, request, response, now):
        name = request.get("cmd")
        args = request.get("args", [])
        if name == "login":
            if self.gate is None:
                ok, message = True, "no login needed"
            elif not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], str):
                ok, message = False, "usage: login <passphrase>"
            else:
                ok, message = self.gate.attempt(args[0], now)
            self.logged_in = self.logged_in or ok
            response["ok"] = ok
            response["result" if ok else "error"] = message
            return
        if name == "exit":
            self.machine = False
            response["ok"] = True
            response["result"] = "back to line mode"
            return
        if not self.logged_in:
            response["error"] = "login required"
            return
        if name == "logout":
            self.logged_in = self.gate is None
            response["ok"] = True
            response["result"] = "logged out"
            return
        try:
            command = make_command(name, args)
        except CommandError as exc:
            response["error"] = str(exc)
            return
        ok, result = self._execute(command)
        response["ok"] = ok
        response["result" if ok else "error"] = to_wire(result) if ok else result

    def _reply(self, response, now):
        payload = cbor.encode(response)
        if len(payload) > HARD_MAX_PAYLOAD:
            payload = cbor.encode({"id": response.get("id"), "ok": False,
                                   "error": "result too large for one frame: ask for less"})
        try:
            self.link.send(payload, now)
        except LocalProtocolError:
            self.dropped_responses += 1  # the peer stopped acknowledging; do not queue forever

    # timers ------------------------------------------------------------------------------
    def get_timer(self):
        """The next deadline (ms) for handle_timer, or None."""
        deadlines = [self.link.get_timer()]
        if self.machine:
            deadlines.append(self._last_frame + self.machine_idle_ms)
        if self.logged_in and self.gate is not None:
            deadlines.append(self._last_activity + self.idle_logout_ms)
        deadlines = [d for d in deadlines if d is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now):
        """Resend frames, expire partial frames, leave idle machine mode, log out idle users."""
        delivered, _ = self.link.handle_timer(now)
        self._on_frames(delivered, now)
        if self.machine and now >= self._last_frame + self.machine_idle_ms and self.link.idle:
            self.machine = False
            self._prompt()
        if self.logged_in and self.gate is not None and now >= self._last_activity + self.idle_logout_ms:
            self._line = bytearray()
            self._text.extend(b"\r\n")
            self._logout("idle: logged out")
            self._prompt()
