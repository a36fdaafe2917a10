"""Real UDP: OS processes on distinct loopback addresses bootstrap from one seed and deliver 1 KB
and 1 MB broadcasts to all (PROTOCOL.md §1.8/§1.9)."""
import hashlib
import random
import socket

import pytest

from dusk_edge.sim.overlay_procs import PeerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

N = 9  # one seed + 8 joiners, each its own process and loopback address


def broadcast_reaches_all(procs, origin, size, seed, timeout):
    sent = origin.command("broadcast %d %d" % (size, seed), expect="sent")
    expected = hashlib.sha256(random.Random(seed).randbytes(size)).hexdigest()
    assert sent["sha256"] == expected
    others = [p for p in procs if p is not origin]
    ok = wait_until(lambda: all(sent["ray_id"] in p.received for p in others), timeout)
    missing = [p.listen for p in others if sent["ray_id"] not in p.received]
    assert ok, "not delivered to %s" % missing
    for p in others:
        assert p.received[sent["ray_id"]]["sha256"] == expected
        assert p.received[sent["ray_id"]]["len"] == size


def free_port(hosts):
    """A UDP port free on every host (a devnet may hold 9000 on the same loopback addresses)."""
    for _ in range(50):
        port = random.randrange(20000, 60000)
        socks = []
        try:
            for host in hosts:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port")


@pytest.mark.parametrize("fec", ["raptorq", "rs"])
def test_processes_bootstrap_and_broadcast(fec):
    hosts = ["127.0.0.%d" % i for i in range(2, 2 + N)]
    port = free_port(hosts)
    seed_addr = "%s:%d" % (hosts[0], port)
    procs = []
    try:
        procs.append(PeerProcess(seed_addr, extra=["--fec", fec]))
        for host in hosts[1:]:
            procs.append(PeerProcess("%s:%d" % (host, port), [seed_addr], extra=["--fec", fec]))
        for p in procs:
            p.wait_for("ready", timeout=60)

        def tables_full():
            return all(p.command("stats", expect="stats")["peers"] >= N - 1 for p in procs)

        assert wait_until(tables_full, 40, step=0.5), "routing tables did not fill"
        broadcast_reaches_all(procs, procs[4], 1000, 1, timeout=15)
        broadcast_reaches_all(procs, procs[-1], 1_000_000, 2, timeout=60)
    finally:
        for p in procs:
            p.stop()
