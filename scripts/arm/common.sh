# Shared by scripts/arm/test_arm.sh and scripts/arm/wheels.sh (source it; needs bash).
#
# Builds and caches, under $ARM_CACHE (default .cache/arm64/, gitignored):
#   debs/  Debian bookworm arm64 packages: CPython 3.11 + the C libraries it loads, and the headers
#   root/  those packages unpacked with `dpkg -x` (no chroot): qemu-aarch64-static -L root runs it
#   wheels/ the aarch64 wheels of our dependencies (pip download for that platform)
#   site/  those wheels installed with `pip install --target` (the PYTHONPATH under qemu)
# Each step keeps a stamp holding its inputs, so a warm run only checks stamps.
# Exit status 77 means "a component is missing here" (tests turn it into skip/fail per CI).

ARM_REPO=${ARM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ARM_CACHE=${ARM_CACHE:-$ARM_REPO/.cache/arm64}
ARM_HOST_PY=${ARM_HOST_PY:-$ARM_REPO/.venv/bin/python}
case $ARM_HOST_PY in /*) ;; */*) ARM_HOST_PY=$PWD/$ARM_HOST_PY ;; esac
[ -x "$ARM_HOST_PY" ] || ARM_HOST_PY=python3
ARM_ROOT=$ARM_CACHE/root
ARM_PYVER=3.11
ARM_LOG_TAG=${ARM_LOG_TAG:-arm}

# Runtime of Debian's arm64 python3.11 (DEPENDENCIES.md §8) plus the headers for cross builds.
ARM_DEBS="python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g
  libssl3 libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8
  libgcc-s1 libstdc++6 libcrypt1 libnsl2 libtirpc3 libdb5.3 media-types
  libpython3.11-dev python3.11-dev"

# pip accepts exactly the tags listed (it only expands manylinux2014 downwards), so list what pip
# on Raspberry Pi OS bookworm (glibc 2.36) accepts: manylinux2014 .. manylinux_2_36.
arm_platform_flags() {  # $1 = aarch64 | armv7l | x86_64
    local v out="--platform manylinux2014_$1"
    for v in $(seq 17 36); do out="$out --platform manylinux_2_${v}_$1"; done
    echo "$out --python-version $ARM_PYVER --implementation cp"
}

arm_log() { echo "$ARM_LOG_TAG: $*"; }
# ARM_STRICT=0 (the Makefile targets) turns a missing component into a printed skip, except
# under CI=true (DESIGN.md §7); the tests keep status 77 and decide themselves.
arm_missing() {
    echo "$ARM_LOG_TAG: MISSING: $*" >&2
    if [ "${ARM_STRICT:-1}" = 0 ] && [ "${CI:-}" != true ]; then
        echo "$ARM_LOG_TAG: SKIPPED: a component is missing here (it would fail under CI=true)"
        exit 0
    fi
    exit 77
}
arm_die() { echo "$ARM_LOG_TAG: ERROR: $*" >&2; exit 1; }

arm_host_is_arm() {
    case "$(uname -m)" in aarch64 | arm64 | armv7l | armv6l | armv8l) return 0 ;; esac
    return 1
}

arm_as_root() { [ "$(id -u)" = 0 ]; }

arm_hash() { sha256sum | cut -c1-16; }

# Serialise concurrent runs (make test-arm and tests/test_arm.py may overlap); held until exit.
arm_lock() {
    mkdir -p "$ARM_CACHE"
    exec 9>"$ARM_CACHE/.lock"
    flock 9
}

arm_need_tools() {
    local tool pkg want=()
    for tool in qemu-aarch64-static:qemu-user-static aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
        dpkg:dpkg apt-get:apt; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || want+=("${tool#*:}")
    done
    [ ${#want[@]} = 0 ] && return 0
    if arm_as_root && command -v apt-get >/dev/null 2>&1; then
        arm_log "installing ${want[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
    else
        arm_missing "system packages ${want[*]} (as root: apt-get install -y ${want[*]})"
    fi
}

# arm64 must be a dpkg foreign architecture with fetched package lists for `apt-get download`.
arm_enable_apt_arch() {
    local have_lists=0
    ls /var/lib/apt/lists/*binary-arm64_Packages* >/dev/null 2>&1 && have_lists=1
    if dpkg --print-foreign-architectures | grep -qx arm64 && [ $have_lists = 1 ]; then
        return 0
    fi
    arm_as_root || arm_missing "dpkg architecture arm64 (as root: dpkg --add-architecture arm64 && apt-get update)"
    arm_log "adding dpkg architecture arm64 and fetching its package lists"
    dpkg --add-architecture arm64
    apt-get update -qq || arm_die "apt-get update failed"
}

arm_prepare_root() {
    local stamp="$ARM_CACHE/root.stamp" want pkg debs=()
    want=$(echo $ARM_DEBS | arm_hash)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$ARM_ROOT/usr/bin/python$ARM_PYVER" ]; then
        return 0
    fi
    arm_enable_apt_arch
    rm -rf "$ARM_CACHE/debs" "$ARM_ROOT" "$stamp"
    mkdir -p "$ARM_CACHE/debs" "$ARM_ROOT"
    for pkg in $ARM_DEBS; do
        case $pkg in media-types) debs+=("$pkg") ;; *) debs+=("$pkg:arm64") ;; esac
    done
    arm_log "downloading ${#debs[@]} Debian arm64 packages"
    (cd "$ARM_CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "${debs[@]}" >/dev/null) ||
        arm_die "apt-get download failed (is deb.debian.org reachable?)"
    for pkg in "$ARM_CACHE"/debs/*.deb; do dpkg -x "$pkg" "$ARM_ROOT"; done
    # Debian ships no .pyc (postinst compiles them); bytecode is portable, so compile on the host.
    "$ARM_HOST_PY" -m compileall -q -j 0 -x 'lib2to3|test/' "$ARM_ROOT/usr/lib/python$ARM_PYVER" >/dev/null 2>&1 || true
    echo "$want" >"$stamp"
}

# An x86 shell wrapper that the aarch64 python sees as sys.executable (qemu -0 sets argv[0]), so
# tests that start `sys.executable` subprocesses work without binfmt_misc; it sits in root/usr/bin
# so python finds its prefix (root/usr) beside it.
arm_write_wrapper() {
    ARM_PY_WRAPPER=$ARM_ROOT/usr/bin/python$ARM_PYVER-qemu
    printf '#!/bin/sh\nexec qemu-aarch64-static -L "%s" -0 "$0" "%s" "$@"\n' \
        "$ARM_ROOT" "$ARM_ROOT/usr/bin/python$ARM_PYVER" >"$ARM_PY_WRAPPER"
    chmod +x "$ARM_PY_WRAPPER"
}

# The requirements dusk-edge declares, evaluated for aarch64, plus what the tests under qemu need
# (numpy: dusk_edge/sim/overlay_model.py imports it without setup.cfg declaring it).
arm_requirements() {
    "$ARM_HOST_PY" "$ARM_REPO/scripts/arm/arm_requirements.py" --machine aarch64 \
        --extra test:pytest,pytest-timeout,hypothesis,py_ecc --extra hsm --plus numpy
}

arm_prepare_site() {
    local stamp="$ARM_CACHE/site.stamp" reqs want flags
    reqs=$(arm_requirements) || arm_die "cannot read the requirements from setup.cfg"
    want=$(echo "$reqs" | arm_hash)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    flags=$(arm_platform_flags aarch64)
    rm -rf "$ARM_CACHE/wheels" "$ARM_CACHE/site" "$stamp"
    mkdir -p "$ARM_CACHE/wheels"
    arm_log "downloading aarch64 wheels: $(echo $reqs)"
    # shellcheck disable=SC2086
    arm_pip download -q --only-binary=:all: $flags -d "$ARM_CACHE/wheels" $reqs ||
        arm_die "pip download of the aarch64 wheels failed"
    # shellcheck disable=SC2086
    arm_pip install -q --no-deps --no-index --only-binary=:all: $flags \
        --target "$ARM_CACHE/site" "$ARM_CACHE"/wheels/*.whl ||
        arm_die "installing the aarch64 wheels into the site dir failed"
    "$ARM_HOST_PY" -m compileall -q -j 0 "$ARM_CACHE/site" >/dev/null 2>&1 || true
    echo "$want" >"$stamp"
}

# Host pip, its output shown only on failure.
arm_pip() {
    local log rc=0
    log=$(mktemp)
    "$ARM_HOST_PY" -m pip "$@" >"$log" 2>&1 || rc=$?
    [ $rc = 0 ] || grep -v '^WARNING: Location' "$log" >&2 || true
    rm -f "$log"
    return $rc
}

# Run Debian's aarch64 python3.11 under qemu-user; extra PYTHONPATH entries in $ARM_PYTHONPATH.
arm_python() {
    env -u PYTHONDONTWRITEBYTECODE -u PYTHONHOME -u VIRTUAL_ENV \
        PYTHONPATH="${ARM_PYTHONPATH:+$ARM_PYTHONPATH:}$ARM_CACHE/site" PYTHONNOUSERSITE=1 \
        "$ARM_ROOT/usr/bin/python$ARM_PYVER-qemu" "$@"
}

# Cross-compile flags for one extension against the arm64 headers (the generic include dir must
# come first: its pyconfig.h includes <aarch64-linux-gnu/python3.11/pyconfig.h>).
arm_cross_cflags() {
    local inc="$ARM_ROOT/usr/include"
    echo "-I$inc -I$inc/python$ARM_PYVER"
}
