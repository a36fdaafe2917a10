#!/usr/bin/env bash
# `make wheels`: release wheels (issue 10).
#
# With a working container engine (docker or podman) this runs cibuildwheel with the
# [tool.cibuildwheel] settings of pyproject.toml: CPython 3.11-3.13, linux x86_64/aarch64/armv7l,
# manylinux and musllinux, each wheel tested. Without one (this machine: no daemon, and the
# manylinux images live on quay.io) it says so and runs the allowed stand-in (DESIGN.md §7):
#   1. cibuildwheel --print-build-identifiers (the configuration is valid and names every target);
#   2. a gcc-cross aarch64 wheel of the project: setup.py bdist_wheel with the arm64
#      _sysconfigdata and headers (DEPENDENCIES.md §8), CIBUILDWHEEL=1 so a failed C build fails;
#   3. a manylinux2014 check of that wheel (glibc symbols <= 2.17, libc as the only library);
#   4. that wheel installed for aarch64 and tested under qemu-aarch64-static: arm_smoke.py
#      (C backend active) and the twin-equivalence tests against the installed wheel.
# Wheels land in dist/. Env: WHEELS_FORCE_STANDIN=1 skips the container-engine probe.
set -euo pipefail
ARM_LOG_TAG=wheels
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ARM_REPO"
started=$SECONDS
dist=$ARM_REPO/dist
mkdir -p "$dist"

cibw=$(dirname "$ARM_HOST_PY")/cibuildwheel
if [ ! -x "$cibw" ]; then
    arm_log "installing cibuildwheel into the venv"
    arm_pip install -q "cibuildwheel>=2.22" || arm_die "pip install cibuildwheel failed"
fi

engine=""
if [ "${WHEELS_FORCE_STANDIN:-0}" != 1 ]; then
    if command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then
        engine=docker
    elif command -v podman >/dev/null 2>&1 && timeout 20 podman info >/dev/null 2>&1; then
        engine=podman
    fi
fi
if [ -n "$engine" ]; then
    arm_log "container engine: $engine; running cibuildwheel (aarch64/armv7l need binfmt qemu:"
    arm_log "  docker run --privileged --rm tonistiigi/binfmt --install arm64,arm)"
    CIBW_CONTAINER_ENGINE=$engine "$cibw" --platform linux --output-dir "$dist" .
    arm_log "done: $(ls "$dist"/*.whl | wc -l) wheels in dist/ ($((SECONDS - started)) s)"
    exit 0
fi

if [ "${WHEELS_FORCE_STANDIN:-0}" = 1 ]; then
    arm_log "stand-in forced (WHEELS_FORCE_STANDIN=1); the container engine was not probed"
else
    arm_log "NO CONTAINER ENGINE: neither docker nor podman can run containers here, so"
    arm_log "cibuildwheel cannot build the manylinux/musllinux wheels."
fi
arm_log "Stand-in (DESIGN.md §7): the build identifiers cibuildwheel would build, and a gcc-cross"
arm_log "aarch64 wheel checked for manylinux2014 and tested under qemu."
"$cibw" --print-build-identifiers --platform linux | sed 's/^/wheels: would build /'

if arm_host_is_arm; then
    arm_log "SKIP the cross wheel: the host is itself $(uname -m)"
    exit 0
fi
arm_lock
arm_need_tools
arm_prepare_root
arm_write_wrapper
arm_prepare_site

# Build from a clean copy: no in-tree .so or build/ can leak into the wheel.
work=$ARM_CACHE/wheel-build
rm -rf "$work"
mkdir -p "$work/src" "$work/sysconf"
tar -C "$ARM_REPO" -cf - --exclude='*.so' --exclude=__pycache__ --exclude=.hypothesis \
    dusk_edge hw setup.py setup.cfg pyproject.toml $(ls README.md 2>/dev/null || true) |
    tar -C "$work/src" -xf -
[ -f "$work/src/README.md" ] || echo "# dusk-edge" >"$work/src/README.md"
cp "$ARM_ROOT/usr/lib/python$ARM_PYVER/_sysconfigdata__aarch64-linux-gnu.py" "$work/sysconf/"
(
    cd "$work/src"
    # shellcheck disable=SC2046
    env CIBUILDWHEEL=1 _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__aarch64-linux-gnu \
        PYTHONPATH="$work/sysconf" _PYTHON_HOST_PLATFORM=linux-aarch64 \
        CC=aarch64-linux-gnu-gcc LDSHARED="aarch64-linux-gnu-gcc -shared" \
        CFLAGS="$(arm_cross_cflags)" \
        "$ARM_HOST_PY" setup.py -q bdist_wheel --plat-name manylinux2014_aarch64 -d "$work/out" \
        >"$work/build.log" 2>&1
) || { tail -30 "$work/build.log" >&2; arm_die "the cross build of the aarch64 wheel failed"; }
wheel=$(ls "$work"/out/*.whl)
cp "$wheel" "$dist/"
wheel=$dist/$(basename "$wheel")
arm_log "built $(basename "$wheel") ($(stat -c %s "$wheel") bytes)"

# What auditwheel would check for manylinux2014: no glibc symbol newer than 2.17, no library
# beyond libc (the policy's whitelist; we link nothing else).
mkdir -p "$work/unpacked"
"$ARM_HOST_PY" -m zipfile -e "$wheel" "$work/unpacked"
so=$(ls "$work"/unpacked/dusk_edge/_speedups*.so 2>/dev/null) || arm_die "the wheel holds no _speedups .so"
case "$so" in *aarch64-linux-gnu.so) ;; *) arm_die "wrong extension suffix: $so" ;; esac
newest=$(aarch64-linux-gnu-objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
needed=$(aarch64-linux-gnu-readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
[ "$(printf '%s\nGLIBC_2.17\n' "$newest" | sort -V | tail -1)" = GLIBC_2.17 ] ||
    arm_die "$so needs $newest, newer than manylinux2014 allows (GLIBC_2.17)"
for lib in $needed; do
    case $lib in libc.so.6 | libpthread.so.0 | libm.so.6) ;; *) arm_die "$so links $lib" ;; esac
done
arm_log "manylinux2014 check: newest symbol ${newest:-none}, needs: ${needed:-nothing}"

# Install the wheel for aarch64 and test it under qemu from outside the source tree.
target=$ARM_CACHE/wheel-test
rm -rf "$target"
# shellcheck disable=SC2046
arm_pip install -q --no-deps --only-binary=:all: $(arm_platform_flags aarch64) --target "$target" "$wheel" ||
    arm_die "pip refused the aarch64 wheel"
export ARM_PYTHONPATH="$target:$ARM_REPO/scripts/arm"
cd "$ARM_CACHE"
arm_python "$ARM_REPO/scripts/arm/arm_smoke.py" || arm_die "the installed aarch64 wheel failed its smoke checks"
t=$SECONDS
# --import-mode=append: the repository (rootdir, for tests.conftest) goes after the wheel on sys.path.
arm_python -m pytest -q -m twin -p qemu_pytest_plugin -p no:cacheprovider --import-mode=append \
    "$ARM_REPO"/tests/test_speedups*.py || arm_die "twin tests failed against the aarch64 wheel"
arm_log "twin-equivalence tests passed against the installed wheel ($((SECONDS - t)) s)"
arm_log "PASS: $(basename "$wheel") built and tested on aarch64 (qemu-user) in $((SECONDS - started)) s"
