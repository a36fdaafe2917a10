"""Userspace delay relay on a TUN device (Linux kernels here lack tc netem).

A router namespace sends every forwarded packet into the TUN device (policy routing); this
process reads each IP packet, holds it ``--delay-ms`` and writes it back unchanged, so the kernel
routes it on to its destination. Addresses are preserved (Kadcast binds ids to source ips).
Run: ``ip netns exec NS python -m dusk_edge.sim.overlay_tun_relay --dev ktun --delay-ms 50``.
"""
import argparse
import fcntl
import heapq
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def relay(fd, delay_s):
    pending = []
    seq = 0
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else 1.0
        readable, _, _ = select.select([fd], [], [], timeout)
        if readable:
            for _ in range(256):  # drain a burst before writing
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                seq += 1
                heapq.heappush(pending, (time.monotonic() + delay_s, seq, packet))
                if not select.select([fd], [], [], 0)[0]:
                    break
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            os.write(fd, heapq.heappop(pending)[2])


def main(argv=None):
    parser = argparse.ArgumentParser(description="TUN delay relay")
    parser.add_argument("--dev", required=True)
    parser.add_argument("--delay-ms", type=int, default=50)
    args = parser.parse_args(argv)
    fd = open_tun(args.dev)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    relay(fd, args.delay_ms / 1000)


if __name__ == "__main__":
    main()
