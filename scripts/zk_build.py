"""Build (or find cached) the shielded-transfer circuit artifacts under .cache/zk and print the
genesis verifying key: `python scripts/zk_build.py [--vk-out FILE]`.

npm install (circom2, snarkjs) -> compile circuits/transfer.circom for bls12381 -> powers of tau
2^14 (local, cached by power) -> Groth16 setup + one contribution -> verification_key.json.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dusk_edge.zk import toolchain  # noqa: E402
from dusk_edge.zk.verifier import verifying_key_bytes_from_snarkjs  # noqa: E402


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vk-out", help="write the genesis verifying key bytes (hex) here")
    args = parser.parse_args(argv)
    started = time.time()
    artifacts = toolchain.build(log=lambda msg: print("zk_build:", msg, flush=True))
    vk_hex = verifying_key_bytes_from_snarkjs(artifacts.verification_key()).hex()
    print("zk_build: artifacts %s (%.1f s)" % (artifacts.directory, time.time() - started))
    if args.vk_out:
        with open(args.vk_out, "w") as f:
            f.write(vk_hex + "\n")
        print("zk_build: genesis verifying key written to %s" % args.vk_out)
    else:
        print("zk_build: genesis verifying key %d bytes" % (len(vk_hex) // 2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
