"""Packaging for the boards (issue 10): dependency markers, wheel availability per target, the
compiler fallback of setup.py, the cibuildwheel configuration and the `make wheels` stand-in.

pip evaluates environment markers against the interpreter it runs in, even with --platform, so
the markers are evaluated here for each target (scripts/arm/arm_requirements.py) and pip only
checks that wheels exist for what a board would ask for.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib

import pytest
from packaging.utils import canonicalize_name

from tests.conftest import missing_component, require, require_module

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP_CFG = os.path.join(REPO, "setup.cfg")
ARM_HOST = os.uname().machine in ("aarch64", "armv7l", "armv6l", "armv8l")


def load_arm_requirements():
    path = os.path.join(REPO, "scripts", "arm", "arm_requirements.py")
    spec = importlib.util.spec_from_file_location("arm_requirements", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


arm_requirements = load_arm_requirements()


def requirements_for(machine, extras=None):
    reqs = arm_requirements.declared(SETUP_CFG, extras or {})
    return arm_requirements.resolve_for(reqs, arm_requirements.target_environment(machine))


def by_name(lines):
    from packaging.requirements import Requirement

    table = {}
    for line in lines:
        req = Requirement(line)
        assert req.name not in table, "%s asked for twice" % req.name
        table[req.name] = req.specifier
    return table


# --- markers (no network) ---------------------------------------------------------------------

@pytest.mark.parametrize("machine", ["x86_64", "aarch64", "armv7l", "armv6l"])
def test_markers_ask_only_for_what_has_wheels_on_the_target(machine):
    reqs = by_name(requirements_for(machine))
    assert ("raptorq" in reqs) == (machine == "x86_64")  # Rust sdist only elsewhere
    assert ("uvloop" in reqs) == (machine in ("x86_64", "aarch64"))
    assert ("crc32c" in reqs) == (machine in ("x86_64", "aarch64"))
    for always in ("py-arkworks-bls12381", "blake3", "cbor2", "cryptography", "click", "rich",
                   "pyserial", "pyserial-asyncio-fast"):
        assert always in reqs


def test_cbor2_stays_below_6_on_32_bit_arm():
    # cbor2 6.x is Rust-only and ships no armv7l wheel; 5.9 is pure Python (DEPENDENCIES.md §2).
    for machine in ("armv7l", "armv6l"):
        spec = by_name(requirements_for(machine))["cbor2"]
        assert spec.contains("5.9.0") and not spec.contains("6.3.0")
    spec = by_name(requirements_for("aarch64"))["cbor2"]
    assert spec.contains("6.3.0") and not spec.contains("7.0.0")


def test_target_environment_overrides_the_host():
    env = arm_requirements.target_environment("armv7l")
    assert env["platform_machine"] == "armv7l" and env["python_version"] == "3.11"
    assert "cryptography>=41" in requirements_for("armv7l")
    assert all(not line.startswith("python-pkcs11") for line in requirements_for("armv7l"))
    assert any(line.startswith("python-pkcs11") for line in
               requirements_for("armv7l", {"hsm": None}))


# --- the resolver per target (PyPI) -----------------------------------------------------------

def platform_flags(machine, libc="manylinux"):
    if libc == "musllinux":
        tags = ["musllinux_1_1_%s" % machine, "musllinux_1_2_%s" % machine]
    else:  # what pip on Raspberry Pi OS bookworm (glibc 2.36) accepts; pip does not expand 2_x
        tags = ["manylinux2014_%s" % machine] + ["manylinux_2_%d_%s" % (v, machine)
                                                 for v in range(17, 37)]
    flags = []
    for tag in tags:
        flags += ["--platform", tag]
    return flags + ["--python-version", "3.11", "--implementation", "cp"]


def dry_run(tmp_path, machine, requirements, libc="manylinux", no_deps=False):
    """pip's resolver with wheels only for ``machine``; returns {name: version} it would install."""
    report = tmp_path / ("report-%s-%s.json" % (machine, libc))
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
           "--only-binary=:all:", "--target", str(tmp_path / "target"), "--report", str(report)]
    cmd += platform_flags(machine, libc) + (["--no-deps"] if no_deps else []) + list(requirements)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "Could not fetch URL" in proc.stderr + proc.stdout:
        missing_component("PyPI is not reachable: %s" % proc.stderr[-300:])
    assert proc.returncode == 0, "%s %s: %s" % (machine, libc, (proc.stdout + proc.stderr)[-3000:])
    doc = json.loads(report.read_text())
    return {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
            for item in doc["install"]}


@pytest.mark.integration
@pytest.mark.parametrize("machine,libc", [("x86_64", "manylinux"), ("aarch64", "manylinux"),
                                          ("aarch64", "musllinux")])
def test_everything_installs_from_wheels(tmp_path, machine, libc):
    extras = {"hsm": None} if machine == "aarch64" else {}
    got = dry_run(tmp_path, machine, requirements_for(machine, extras), libc)
    assert "py-arkworks-bls12381" in got and "cryptography" in got and "cbor2" in got
    assert ("raptorq" in got) == (machine == "x86_64")
    if machine == "aarch64":
        assert "uvloop" in got and "crc32c" in got and "python-pkcs11" in got


@pytest.mark.integration
def test_armv7l_installs_from_wheels_except_cffi(tmp_path):
    # PyPI has armv7l wheels for arkworks, blake3 and cryptography (manylinux_2_31) and pure
    # wheels for the rest, but none for cffi, which cryptography needs: on a 32-bit Pi it comes
    # from piwheels (Raspberry Pi OS's default extra index) or builds from its C sdist
    # (build-essential, libffi-dev, python3-dev). docs: README "Installing on ARM boards".
    reqs = requirements_for("armv7l")
    without_crypto = [r for r in reqs if not r.startswith("cryptography")]
    got = dry_run(tmp_path, "armv7l", without_crypto)
    assert not {"raptorq", "uvloop", "crc32c"} & set(got)
    assert got["cbor2"].startswith("5.")
    crypto = [r for r in reqs if r.startswith("cryptography")]
    assert "cryptography" in dry_run(tmp_path, "armv7l", crypto, no_deps=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                           "--no-binary=:all:", "cffi>=2.0", "-d", str(tmp_path / "sdist")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert any(name.startswith("cffi-") and name.endswith(".tar.gz")
               for name in os.listdir(tmp_path / "sdist"))


# --- setup.py: pure fallback without a compiler, except under cibuildwheel --------------------

def copy_project(dest):
    ignore = shutil.ignore_patterns("*.so", "__pycache__", ".hypothesis", "build")
    shutil.copytree(os.path.join(REPO, "dusk_edge"), dest / "dusk_edge", ignore=ignore)
    shutil.copytree(os.path.join(REPO, "hw"), dest / "hw", ignore=ignore)
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        if os.path.exists(os.path.join(REPO, name)):
            shutil.copy(os.path.join(REPO, name), dest / name)
    if not (dest / "README.md").exists():
        (dest / "README.md").write_text("# dusk-edge\n")
    return dest


def build_wheel(project, out, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("CIBUILDWHEEL", "DUSK_EDGE_PUREPYTHON")}
    full_env.update(env)
    # -v: pip shows the build backend's stderr (the fallback notice) only when verbose
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-v", "-w", str(out), str(project)],
                          env=full_env, capture_output=True, text=True, timeout=300)


def installed_backend(wheel_dir, target):
    wheels = [os.path.join(wheel_dir, n) for n in os.listdir(wheel_dir) if n.endswith(".whl")]
    assert len(wheels) == 1, wheels
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), wheels[0]], check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "DUSK_EDGE_PUREPYTHON"}
    env["PYTHONPATH"] = str(target)
    probe = ("from dusk_edge.core import accel; import dusk_edge; "
             "assert accel.crc32c(b'123456789') == 0xE3069283; "
             "print(accel.ACTIVE, getattr(accel.SPEEDUPS, '__file__', dusk_edge.__file__))")
    # -S: without site, the venv's editable install of the repository cannot serve
    # dusk_edge._speedups from the working tree when the wheel lacks it.
    proc = subprocess.run([sys.executable, "-S", "-c", probe], env=env, cwd=str(target.parent),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    backend, where = proc.stdout.split()
    assert where.startswith(str(target))  # the installed copy, not the repository
    return backend


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory):
    require("cc")
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.mark.integration
def test_broken_compiler_gives_a_working_pure_install(project_copy, tmp_path):
    proc = build_wheel(project_copy, tmp_path / "out", CC="false")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "the C speedups could not be built" in proc.stdout + proc.stderr
    assert installed_backend(tmp_path / "out", tmp_path / "site") == "pure"


@pytest.mark.integration
def test_broken_compiler_fails_the_build_under_cibuildwheel(project_copy, tmp_path):
    proc = build_wheel(project_copy, tmp_path / "out", CC="false", CIBUILDWHEEL="1")
    assert proc.returncode != 0
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


@pytest.mark.integration
def test_working_compiler_under_cibuildwheel_ships_the_speedups(project_copy, tmp_path):
    proc = build_wheel(project_copy, tmp_path / "out", CIBUILDWHEEL="1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert installed_backend(tmp_path / "out", tmp_path / "site") == "c"


# --- cibuildwheel configuration and the `make wheels` stand-in -------------------------------

def cibuildwheel_config():
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["tool"]["cibuildwheel"]


def test_cibuildwheel_options_are_known_to_cibuildwheel():
    cibw = require_module("cibuildwheel")
    schema_path = os.path.join(os.path.dirname(cibw.__file__), "resources", "cibuildwheel.schema.json")
    with open(schema_path) as f:
        known = set(json.load(f)["properties"])
    config = cibuildwheel_config()
    assert set(config) - known == set()
    assert set(config["linux"]) - known == set()
    assert "--import-mode=append" in " ".join(config["test-command"])


def test_cibuildwheel_would_build_every_target():
    cibw = shutil.which("cibuildwheel", path=os.path.dirname(sys.executable)) or shutil.which("cibuildwheel")
    if cibw is None:
        missing_component("cibuildwheel is not installed (pip install cibuildwheel)")
    proc = subprocess.run([cibw, "--print-build-identifiers", "--platform", "linux"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    expected = {"cp3%d-%s_%s" % (minor, libc, arch) for minor in (11, 12, 13)
                for libc in ("manylinux", "musllinux") for arch in ("x86_64", "aarch64", "armv7l")}
    assert set(proc.stdout.split()) == expected


def container_engine_works():
    for engine in ("docker", "podman"):
        if shutil.which(engine):
            try:
                if subprocess.run([engine, "info"], capture_output=True, timeout=20).returncode == 0:
                    return True
            except subprocess.TimeoutExpired:
                pass
    return False


@pytest.mark.integration
def test_make_wheels_standin_builds_and_tests_the_aarch64_wheel():
    if ARM_HOST:
        pytest.skip("the host is ARM itself: the gcc-cross wheel is not needed (DESIGN.md §7)")
    engine = container_engine_works()
    env = dict(os.environ, ARM_HOST_PY=sys.executable)
    if engine:  # the real cibuildwheel run is a CI job of its own; test the stand-in here
        env["WHEELS_FORCE_STANDIN"] = "1"
    proc = subprocess.run(["bash", os.path.join(REPO, "scripts", "arm", "wheels.sh")], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    if proc.returncode == 77:
        missing_component(out.strip().splitlines()[-1])
    assert proc.returncode == 0, out[-4000:]
    if not engine:
        assert "wheels: NO CONTAINER ENGINE" in out
    assert "wheels: would build cp313-musllinux_armv7l" in out
    assert "manylinux2014 check: newest symbol GLIBC_2.17" in out
    assert "arm-smoke: ok   accel.ACTIVE == c" in out
    assert "/wheel-test/dusk_edge/_speedups.cpython-311-aarch64-linux-gnu.so" in out
    assert "wheels: PASS: dusk_edge-" in out and "manylinux2014_aarch64.whl" in out
