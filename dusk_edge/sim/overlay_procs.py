"""Start and drive `python -m dusk_edge.drivers.aio_udp` processes for the kadcast UDP tests
(real OS processes on real sockets; optional ``prefix`` such as ["ip", "netns", "exec", NS])."""
import json
import os
import queue
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class PeerProcess:
    def __init__(self, listen, bootstrap=(), prefix=(), extra=()):
        cmd = list(prefix) + [sys.executable, "-m", "dusk_edge.drivers.aio_udp", "--listen", listen,
                              "--pow-bits", "12", "--bootstrap-retry", "1000"] + list(extra)
        for b in bootstrap:
            cmd += ["--bootstrap", b]
        self.listen = listen
        self.lines = queue.Queue()
        self.received = {}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("event") == "received":
                self.received[doc["ray_id"]] = doc
            else:
                self.lines.put(doc)

    def command(self, text, expect=None, timeout=30):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        if expect is None:
            return None
        return self.wait_for(expect, timeout)

    def wait_for(self, event, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                doc = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError("%s exited: %s" % (self.listen, self.proc.stderr.read()[-2000:]))
                continue
            if doc.get("event") == event:
                return doc
        raise TimeoutError("%s: no %s event within %ss" % (self.listen, event, timeout))

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def wait_until(condition, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
