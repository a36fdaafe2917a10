"""Build the companion firmware bundle: read firmware/manifest.py, compile every listed file with
mpy-cross into OUT (default build/firmware) keeping package paths, keep main.py as source (the
board runs main.py at boot), and write OUT/BUNDLE.txt listing files and sizes.
usage: python firmware/build.py [OUT] [--sources]   (--sources also copies .py beside .mpy for tests)
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_manifest(path=os.path.join(HERE, "manifest.py")):
    """[(source path, bundle path)] listed by the manifest."""
    entries = []

    def module(name, base_path="."):
        entries.append((os.path.normpath(os.path.join(HERE, base_path, name)), name))

    def package(name, files=(), base_path="."):
        for f in files:
            entries.append((os.path.normpath(os.path.join(HERE, base_path, name, f)), os.path.join(name, f)))

    def metadata(**_):
        pass

    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, {"module": module, "package": package, "metadata": metadata})
    return entries


def find_mpy_cross():
    beside = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    if os.path.exists(beside):
        return [beside]
    if shutil.which("mpy-cross"):
        return ["mpy-cross"]
    return [sys.executable, "-m", "mpy_cross"]


def build(out, with_sources=False):
    mpy_cross = find_mpy_cross()
    listing = []
    for src, rel in read_manifest():
        if not os.path.exists(src):
            raise SystemExit("manifest lists a missing file: %s" % src)
        os.makedirs(os.path.join(out, os.path.dirname(rel)), exist_ok=True)
        if rel == "main.py" or with_sources:
            shutil.copyfile(src, os.path.join(out, rel))
        if rel != "main.py":
            target = os.path.join(out, rel[:-3] + ".mpy")
            result = subprocess.run(mpy_cross + ["-o", target, "-s", rel, src], capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit("mpy-cross failed on %s:\n%s" % (src, result.stderr or result.stdout))
            rel = rel[:-3] + ".mpy"
        listing.append("%7d  %s" % (os.path.getsize(os.path.join(out, rel)), rel))
    with open(os.path.join(out, "BUNDLE.txt"), "w") as f:
        f.write("\n".join(listing) + "\n")
    return listing


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = args[0] if args else os.path.join(HERE, "..", "build", "firmware")
    for line in build(out, "--sources" in sys.argv):
        print(line)
