"""The asyncio driver of a NodeCore: one UDP socket, one timer, the local socket, signals.

Like aioquic's transmit(): after every input (datagram or timer) the driver sends what the core
wants to send and re-arms a single timer. SIGTERM/SIGINT stop the node cleanly (store committed
and closed, socket removed); systemd gets READY, STATUS and WATCHDOG.
"""
import asyncio
import ipaddress
import logging
import os
import signal
import time

from dusk_edge.config import parse_address
from dusk_edge.core.errors import ConfigError, DecodeError, DuskEdgeError
from dusk_edge.console_api import control_commands
from dusk_edge.node_control import RunnerControl, shielded_commands
from dusk_edge.node_setup import build_node
from dusk_edge.ops.logs import LogRing
from dusk_edge.ops.metrics import serve_metrics
from dusk_edge.ops.status_server import StatusServer
from dusk_edge.ops.systemd import SystemdNotifier

LOG = logging.getLogger("dusk_edge.runner")
MAX_TIMER_WAIT_S = 0.25


def now_ms():
    return int(time.time() * 1000)


def apply_memory_cap(node, rss_mb, previous):
    """Soft memory cap from the board profile: above it, shed the caches that regrow on demand
    (coefficient keys, committees, out-of-order blocks) and report it; returns the status dict."""
    cap_mb = node.board["caps"]["memory_mb"]
    over = rss_mb is not None and rss_mb > cap_mb
    if over:
        from dusk_edge.crypto import bls

        bls.COEFFICIENT_KEYS.clear()
        node.chain._committees.clear()
        node.pending_blocks.clear()
        if not previous.get("over_cap"):
            LOG.warning("memory above the board cap", extra={"fields": {"rss_mb": rss_mb, "cap_mb": cap_mb}})
    return {"rss_mb": rss_mb, "cap_mb": cap_mb, "over_cap": over}


def read_rss_mb():
    """Resident set size of this process in MB (Linux /proc), or None."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 1048576, 1)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, runner):
        self.runner = runner

    def datagram_received(self, data, addr):
        self.runner.on_datagram(data, addr)

    def error_received(self, exc):
        LOG.debug("udp error: %s", exc)


class NodeRunner:
    def __init__(self, config):
        self.config = config
        self.node, self.resources = build_node(config, now_ms())
        self.transport = None
        self.stopping = asyncio.Event()
        self.wakeup = asyncio.Event()
        self.notifier = SystemdNotifier()
        self.started_at = time.time()
        self.exit_code = 0
        self.memory = {}
        self.log_ring = LogRing()
        logging.getLogger().addHandler(self.log_ring)

    def on_datagram(self, data, addr):
        ip = ipaddress.ip_address(addr[0]).packed
        self._guard(self.node.receive_datagram, data, (ip, addr[1]), now_ms())
        self.transmit()

    def transmit(self):
        for data, (ip, port) in self.node.datagrams_to_send(now_ms()):
            self.transport.sendto(data, (str(ipaddress.ip_address(ip)), port))
        self.wakeup.set()

    def _guard(self, fn, *args):
        """A signing refusal or a peer's bad input must never stop the node."""
        try:
            fn(*args)
        except DuskEdgeError as exc:
            self.node.counters["refused"] = self.node.counters.get("refused", 0) + 1
            LOG.warning("%s: %s", type(exc).__name__, exc)

    async def timer_loop(self):
        while not self.stopping.is_set():
            deadline = self.node.get_timer()
            wait = MAX_TIMER_WAIT_S if deadline is None else max(0.0, min(MAX_TIMER_WAIT_S, (deadline - now_ms()) / 1000))
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), wait)
            except asyncio.TimeoutError:
                pass
            deadline = self.node.get_timer()
            if deadline is not None and now_ms() >= deadline:
                self._guard(self.node.handle_timer, now_ms())
                self.transmit()

    def check_memory(self):
        self.memory = apply_memory_cap(self.node, read_rss_mb(), self.memory)

    async def heartbeat_loop(self):
        interval = min(self.notifier.watchdog_interval_s or 5.0, 5.0)
        while not self.stopping.is_set():
            self.check_memory()
            self._guard(self.node.chain.commit_staged)  # a stalled catch-up batch becomes durable
            s = self.node.status(now_ms())
            self.notifier.status("height %d final %d peers %d" % (s["height"], s["final_height"], s["peers"]))
            self.notifier.watchdog()
            try:
                await asyncio.wait_for(self.stopping.wait(), interval)
            except asyncio.TimeoutError:
                pass

    def status(self):
        s = self.node.status(now_ms())
        s["uptime_s"] = round(time.time() - self.started_at, 1)
        s["board"] = {"name": self.node.board["name"], "caps": self.node.board["caps"]}
        s["store"] = self.node.chain.store.stats() if hasattr(self.node.chain.store, "stats") else {}
        s["signing"] = self.node.signer is not None
        s["memory"] = dict(self.memory)
        return s

    def commands(self):
        control = RunnerControl(self, self.log_ring)
        table = control_commands(control)
        table.update(shielded_commands(control))
        table.update({"status": self.status, "shutdown": self.request_stop, "submit_tx": self.submit_tx,
                      "account": self.account})
        return table

    def submit_tx(self, tx):
        """Admit a hex-encoded transaction and broadcast it; returns its id."""
        from dusk_edge.core.ledger.transactions import pull_transaction
        from dusk_edge.core.wire import Buffer

        try:
            raw = bytes.fromhex(tx)
        except (TypeError, ValueError):
            raise DecodeError("tx must be hex") from None
        buf = Buffer(raw)
        transaction = pull_transaction(buf)
        buf.expect_eof()
        self.node.submit_transaction(transaction, now_ms())
        self.transmit()
        return transaction.tx_id().hex()

    def account(self, key):
        from dusk_edge.core.ledger.genesis_spec import parse_account_key

        return self.node.account_info(parse_account_key(key, "key"))

    def request_stop(self):
        self.stopping.set()
        return "stopping"

    async def run(self):
        loop = asyncio.get_running_loop()
        host, port = parse_address(self.config["network"]["listen"], "network.listen")
        try:
            self.transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), local_addr=(host, port))
        except OSError as exc:
            raise ConfigError("network.listen: cannot listen on %s:%d (%s)" % (host, port, exc.strerror or exc)) from None
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        server = await StatusServer(self.config["status"]["socket"], self.commands()).start()
        metrics = None
        if self.config["metrics"]["enabled"]:
            mhost, mport = parse_address(self.config["metrics"]["listen"], "metrics.listen")
            metrics = await serve_metrics(self.status, mhost, mport)
        self._guard(self.node.start, now_ms())
        self.transmit()
        self.notifier.ready("started")
        LOG.info("node %s listening on %s:%d", self.config["node"]["name"], host, port)
        tasks = [asyncio.ensure_future(self.timer_loop()), asyncio.ensure_future(self.heartbeat_loop())]
        try:
            await self.stopping.wait()
        finally:
            self.notifier.stopping()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.close()
            if metrics is not None:
                metrics.close()
            self.transport.close()
            for resource in self.resources:
                resource.close()
            LOG.info("node %s stopped", self.config["node"]["name"])
        return self.exit_code


def run_node(config):
    """Run until SIGTERM/SIGINT or a console shutdown/restart (uvloop when importable); returns
    the process exit code (75 asks systemd for a restart)."""
    async def main():
        return await NodeRunner(config).run()

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())
