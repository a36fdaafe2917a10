"""Print the requirements dusk-edge declares in setup.cfg, as they resolve on a target machine.

pip evaluates environment markers against the interpreter it runs in, even with --platform, so a
cross download on x86_64 would ask for raptorq (x86_64 only) on aarch64. This script evaluates
the markers itself for the target (platform_machine, CPython 3.11 on Linux by default) and prints
plain requirement lines that `pip download/install --platform ...` can take as-is.

    python scripts/arm/arm_requirements.py --machine aarch64 --extra test:pytest,hypothesis
"""
import argparse
import configparser
import os
import sys

from packaging.markers import default_environment
from packaging.requirements import Requirement

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def target_environment(machine, python_version="3.11"):
    """Marker environment of CPython ``python_version`` on Linux/``machine``."""
    env = default_environment()
    env.update(
        platform_machine=machine,
        platform_system="Linux",
        sys_platform="linux",
        os_name="posix",
        implementation_name="cpython",
        platform_python_implementation="CPython",
        python_version=python_version,
        python_full_version=python_version + ".0",
        implementation_version=python_version + ".0",
    )
    return env


def declared(setup_cfg, extras):
    """install_requires plus the chosen extras; ``extras`` maps extra -> set of names or None (all)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(setup_cfg)
    lines = list(_lines(parser.get("options", "install_requires")))
    for extra, only in extras.items():
        if not parser.has_option("options.extras_require", extra):
            raise SystemExit("setup.cfg has no extra %r" % extra)
        for line in _lines(parser.get("options.extras_require", extra)):
            if only is None or Requirement(line).name.lower() in only:
                lines.append(line)
    return [Requirement(line) for line in lines]


def _lines(value):
    for line in value.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def resolve_for(requirements, env):
    """Requirements whose marker holds in ``env``, markers stripped."""
    chosen = []
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        text = req.name + ("[%s]" % ",".join(sorted(req.extras)) if req.extras else "")
        chosen.append(text + str(req.specifier))
    return chosen


def parse_extra(value):
    name, _, only = value.partition(":")
    return name, ({n.strip().lower() for n in only.split(",") if n.strip()} if only else None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--machine", required=True, help="platform_machine: aarch64, armv7l, x86_64")
    ap.add_argument("--python", default="3.11", help="python_version for markers")
    ap.add_argument("--extra", action="append", default=[], help="EXTRA or EXTRA:name,name")
    ap.add_argument("--plus", action="append", default=[], help="one more requirement line")
    ap.add_argument("--setup-cfg", default=os.path.join(REPO, "setup.cfg"))
    args = ap.parse_args(argv)
    extras = dict(parse_extra(e) for e in args.extra)
    reqs = declared(args.setup_cfg, extras) + [Requirement(line) for line in args.plus]
    for line in resolve_for(reqs, target_environment(args.machine, args.python)):
        sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
