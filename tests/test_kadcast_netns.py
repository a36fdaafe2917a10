"""Kadcast across network namespaces: 5 hosts behind a router namespace, 10% random loss
(nftables `numgen random mod 10 0 drop`) and 50 ms one-way delay (a userspace TUN relay, since
this kernel has no tc netem). Real processes, real sockets, real kernel routing."""
import os
import shutil
import subprocess
import sys

import pytest

from dusk_edge.sim.overlay_procs import ROOT, PeerProcess, wait_until
from tests.conftest import missing_component
from tests.test_kadcast_udp import broadcast_reaches_all

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

HOSTS = 5
TAG = "kc%d" % (os.getpid() % 100000)
ROUTER = TAG + "r"


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def in_ns(ns, *cmd, check=True):
    return sh("ip", "netns", "exec", ns, *cmd, check=check)


def build_topology():
    sh("ip", "netns", "add", ROUTER)
    in_ns(ROUTER, "ip", "link", "set", "lo", "up")
    in_ns(ROUTER, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
          "net.ipv4.conf.default.rp_filter=0")
    in_ns(ROUTER, "ip", "tuntap", "add", "dev", "ktun", "mode", "tun")
    in_ns(ROUTER, "ip", "link", "set", "ktun", "up")
    in_ns(ROUTER, "ip", "route", "add", "default", "dev", "ktun", "table", "100")
    for i in range(1, HOSTS + 1):
        host, a, b = "%sh%d" % (TAG, i), "%sa%d" % (TAG, i), "%sb%d" % (TAG, i)
        sh("ip", "netns", "add", host)
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", a, "netns", host)
        sh("ip", "link", "set", b, "netns", ROUTER)
        in_ns(host, "ip", "link", "set", "lo", "up")
        in_ns(host, "ip", "addr", "add", "10.77.%d.2/24" % i, "dev", a)
        in_ns(host, "ip", "link", "set", a, "up")
        in_ns(host, "ip", "route", "add", "default", "via", "10.77.%d.1" % i)
        in_ns(ROUTER, "ip", "addr", "add", "10.77.%d.1/24" % i, "dev", b)
        in_ns(ROUTER, "ip", "link", "set", b, "up")
        in_ns(ROUTER, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % b)
        # everything that arrives from a host goes through the delay relay first
        in_ns(ROUTER, "ip", "rule", "add", "iif", b, "lookup", "100")
    in_ns(ROUTER, "sysctl", "-qw", "net.ipv4.conf.ktun.rp_filter=0")
    rules = ('table inet kcloss {\n chain kcforward {\n  type filter hook forward priority 0;\n'
             '  iifname "ktun" udp dport 9000 numgen random mod 10 0 drop\n }\n}\n')
    subprocess.run(["ip", "netns", "exec", ROUTER, "nft", "-f", "-"], input=rules, text=True,
                   check=True, capture_output=True)


def teardown_topology():
    for i in range(1, HOSTS + 1):
        sh("ip", "netns", "del", "%sh%d" % (TAG, i), check=False)
    sh("ip", "netns", "del", ROUTER, check=False)


@pytest.fixture
def topology():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    if shutil.which("nft") is None:
        missing_component("nftables (nft) is not installed")
    try:
        sh("ip", "netns", "add", TAG + "probe")
        sh("ip", "netns", "del", TAG + "probe")
    except subprocess.CalledProcessError as exc:
        pytest.skip("cannot create network namespaces here: %s" % exc.stderr.strip())
    relay = None
    try:
        build_topology()
        relay = subprocess.Popen(["ip", "netns", "exec", ROUTER, sys.executable, "-m",
                                  "dusk_edge.sim.overlay_tun_relay", "--dev", "ktun", "--delay-ms", "50"],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert relay.stdout.readline().strip() == "ready", relay.stderr.read()
        yield
    finally:
        if relay is not None:
            relay.kill()
            relay.wait(timeout=5)
        teardown_topology()


ECHO_SERVER = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.77.2.2", 9000)); print("up", flush=True)
while True:
    data, addr = s.recvfrom(2048); s.sendto(data, addr)
"""
ECHO_CLIENT = """
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.77.1.2", 9000)); s.settimeout(0.5)
got, rtts = 0, []
for i in range(80):
    t = time.monotonic(); s.sendto(b"%d" % i, ("10.77.2.2", 9000))
    try:
        while s.recv(2048) != b"%d" % i:
            pass
        got += 1; rtts.append(time.monotonic() - t)
    except socket.timeout:
        pass
print(got, min(rtts))
"""


def test_delay_and_loss_are_real(topology):
    server = subprocess.Popen(["ip", "netns", "exec", "%sh2" % TAG, sys.executable, "-c", ECHO_SERVER],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "up"
        out = in_ns("%sh1" % TAG, sys.executable, "-c", ECHO_CLIENT).stdout.split()
    finally:
        server.kill()
        server.wait(timeout=5)
    answered, min_rtt = int(out[0]), float(out[1])
    # both directions cross the relay (>= 100 ms) and lose 10% each: ~81% of 80 answered
    assert min_rtt >= 0.095, min_rtt
    assert 45 <= answered <= 78, answered


def test_broadcast_under_loss_and_delay(topology):
    seed = "10.77.1.2:9000"
    procs = []
    try:
        for i in range(1, HOSTS + 1):
            procs.append(PeerProcess("10.77.%d.2:9000" % i, [] if i == 1 else [seed],
                                     prefix=["ip", "netns", "exec", "%sh%d" % (TAG, i)]))
        for p in procs:
            p.wait_for("ready", timeout=60)

        def tables_full():
            return all(p.command("stats", expect="stats")["peers"] >= HOSTS - 1 for p in procs)

        assert wait_until(tables_full, 60, step=0.5), "routing tables did not fill"
        broadcast_reaches_all(procs, procs[2], 1000, 11, timeout=20)
        broadcast_reaches_all(procs, procs[0], 1_000_000, 12, timeout=90)
        stats = [p.command("stats", expect="stats")["stats"] for p in procs]
        assert sum(s["received"] for s in stats) > 0
    finally:
        for p in procs:
            p.stop()
