"""Make (or refresh) the cached devnet chain the sync benchmark verifies: `python scripts/make_bench_chain.py [BLOCKS]`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.chain_fixture import make_chain  # noqa: E402


def main(argv):
    blocks = int(argv[0]) if argv else 5000
    _encoded, meta = make_chain(blocks)
    print(meta)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
