"""Processes of a local devnet: start N nodes, watch them, stop them all cleanly.

Each node is a separate OS process (`python -m dusk_edge run --config ...`) with its log in its
data directory. Stopping sends SIGTERM, waits, then SIGKILL; nothing is left running, even when
the caller is interrupted (the group is stopped from a finally block and an atexit hook).
"""
import atexit
import os
import signal
import subprocess
import sys
import time


class NodeProcess:
    def __init__(self, name, config_path, log_path, extra_env=None):
        self.name = name
        self.config_path = config_path
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.proc = None
        self.restarts = 0

    def start(self):
        env = dict(os.environ)
        env.update(self.extra_env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dusk_edge", "run", "--config", self.config_path],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True,  # Ctrl-C in the terminal reaches the orchestrator only
            )
        finally:
            log.close()
        return self

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def kill(self):
        """SIGKILL (what a power cut looks like to the node)."""
        if self.running:
            self.proc.kill()
            self.proc.wait()

    def stop(self, grace_s=5.0):
        """SIGTERM, then SIGKILL after ``grace_s``; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 8192))
                return f.read().decode("utf-8", "replace").splitlines()[-lines:]
        except OSError:
            return []


class ProcessGroup:
    def __init__(self):
        self.nodes = []
        atexit.register(self.stop_all)

    def add(self, node):
        self.nodes.append(node)
        return node

    def start_all(self):
        for node in self.nodes:
            node.start()

    def stop_all(self, grace_s=5.0):
        for node in self.nodes:
            if node.running:
                node.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for node in self.nodes:
            if node.proc is None:
                continue
            try:
                node.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()

    def dead(self):
        return [n for n in self.nodes if n.proc is not None and not n.running]
