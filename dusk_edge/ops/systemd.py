"""systemd notify protocol (sd_notify(3)) without libsystemd: READY=1, STATUS=..., WATCHDOG=1.

Does nothing when NOTIFY_SOCKET is unset (not started by systemd), so callers never need to check.
"""
import os
import socket


class SystemdNotifier:
    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC", "")
        # Ping at half the watchdog interval, as sd_watchdog_enabled(3) recommends.
        self.watchdog_interval_s = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None
        self.sent = []

    @property
    def enabled(self):
        return self.address is not None

    def notify(self, **fields):
        """Send KEY=value lines, e.g. notify(READY=1, STATUS="syncing 10/200")."""
        message = "\n".join("%s=%s" % (k, v) for k, v in fields.items())
        self.sent.append(message)
        if not self.address:
            return False
        addr = self.address
        if addr.startswith("@"):  # abstract namespace socket
            addr = "\0" + addr[1:]
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # Never block the event loop: a full notify queue drops this message instead.
            sock.setblocking(False)
            try:
                sock.sendto(message.encode(), addr)
            except OSError:
                return False
        return True

    def ready(self, status="running"):
        return self.notify(READY=1, STATUS=status)

    def status(self, text):
        return self.notify(STATUS=text)

    def watchdog(self):
        return self.notify(WATCHDOG=1)

    def stopping(self):
        return self.notify(STOPPING=1)
