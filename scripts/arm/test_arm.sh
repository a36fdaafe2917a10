#!/usr/bin/env bash
# `make test-arm`: the project on aarch64 without a board (issue 10, DESIGN.md §7).
#
# Cross-compiles dusk_edge/_speedups.c with Debian's aarch64-linux-gnu-gcc against the arm64
# CPython 3.11 headers, then runs Debian's arm64 python3.11 under qemu-aarch64-static with the
# aarch64 wheels of the dependencies (no raptorq: it has no ARM wheel) and runs
#   1. scripts/arm/arm_smoke.py: aarch64, C backend active, every module imports, wheels work
#   2. the conformance vectors        (python -m dusk_edge conformance tests/vectors)
#   3. the twin-equivalence tests     (pytest -m twin $ARM_PYTEST; default tests/test_speedups*.py)
#   4. a short consensus simulation   (tests/test_consensus_sim*.py -k "$ARM_SIM_K", if present)
# Downloads are cached in .cache/arm64/ (see scripts/arm/common.sh); a warm run downloads nothing.
# Env: ARM_PYTEST="tests/x.py ..." or ARM_PYTEST=all (every twin test; slow under emulation),
#      ARM_SIM_TESTS="tests/..." and ARM_SIM_K="pytest -k expression" choose the simulation run,
#      ARM_STAGES="smoke conformance twin sim" (default: all four) which stages run.
set -euo pipefail
ARM_LOG_TAG=test-arm
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ARM_REPO"
started=$SECONDS

if arm_host_is_arm; then
    arm_log "SKIP: the host is itself $(uname -m); run 'make test' natively (DESIGN.md §7)"
    exit 0
fi

arm_lock
arm_need_tools
arm_prepare_root
arm_write_wrapper
arm_prepare_site
arm_log "arm64 CPython + aarch64 wheels ready ($((SECONDS - started)) s)"

# A fresh copy of the sources, so the aarch64 .so never lands in the working tree.
stage=$ARM_CACHE/stage
rm -rf "$stage"
mkdir -p "$stage"
# Everything the tests may read (firmware/, scripts/, docs/, ...), minus caches and build output.
entries=$(ls -A | grep -vxE '\.git|\.venv|\.cache|build|dist|devnet-data|node_modules|\.mpy-build|.*\.egg-info|\.pytest_cache|\.hypothesis')
# shellcheck disable=SC2086
tar -C "$ARM_REPO" -cf - --exclude='*.so' --exclude=__pycache__ --exclude=.hypothesis \
    --exclude=node_modules $entries | tar -C "$stage" -xf -
"$ARM_HOST_PY" -m compileall -q -j 0 "$stage" >/dev/null 2>&1 || true

so=$stage/dusk_edge/_speedups.cpython-${ARM_PYVER/./}-aarch64-linux-gnu.so
# Same flags as setup.py's Extension.
# shellcheck disable=SC2046
aarch64-linux-gnu-gcc -O3 -std=c99 -Wall -fPIC -shared $(arm_cross_cflags) \
    dusk_edge/_speedups.c -o "$so" || arm_die "cross-compiling dusk_edge/_speedups.c failed"
glibc=$(aarch64-linux-gnu-objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
arm_log "cross-built $(basename "$so") ($(stat -c %s "$so") bytes, needs ${glibc:-no versioned glibc})"

export ARM_PYTHONPATH="$stage:$ARM_REPO/scripts/arm"
cd "$stage"
stages=" ${ARM_STAGES:-smoke conformance twin sim} "
wanted() { case $stages in *" $1 "*) return 0 ;; esac; arm_log "stage $1: not selected (ARM_STAGES)"; return 1; }

t=$SECONDS
if wanted smoke; then
    arm_python "$ARM_REPO/scripts/arm/arm_smoke.py" || arm_die "smoke checks failed under qemu"
    arm_log "stage smoke: ok ($((SECONDS - t)) s)"
fi

t=$SECONDS
if wanted conformance; then
    arm_python -m dusk_edge conformance tests/vectors >conformance.log 2>&1 || {
        grep -v '^PASS' conformance.log >&2
        arm_die "conformance vectors failed under qemu"
    }
    arm_log "stage conformance: $(tail -1 conformance.log) ($((SECONDS - t)) s)"
fi

t=$SECONDS
if wanted twin; then
    pytest_files=${ARM_PYTEST:-$(ls tests/test_speedups*.py 2>/dev/null || true)}
    [ "$pytest_files" = all ] && pytest_files=tests
    [ -n "$pytest_files" ] || arm_die "no twin-equivalence test file (tests/test_speedups*.py)"
    # shellcheck disable=SC2086
    arm_python -m pytest -q -m twin -p qemu_pytest_plugin -p no:cacheprovider $pytest_files ||
        arm_die "twin tests failed under qemu"
    arm_log "stage twin-equivalence ($(echo $pytest_files)): ok ($((SECONDS - t)) s)"
fi

t=$SECONDS
# The 4-node simulation with real BLS (~1 s native, ~10 s emulated); tests named *short* join in.
sim_k=${ARM_SIM_K:-short or four_nodes_real_bls}
sim_files=${ARM_SIM_TESTS:-$(ls tests/test_consensus_sim*.py tests/sim/test_*.py 2>/dev/null || true)}
if ! wanted sim; then
    :
elif [ -z "$sim_files" ]; then
    arm_log "stage consensus-sim: no simulation tests yet (tests/test_consensus_sim*.py), not run"
else
    rc=0
    # shellcheck disable=SC2086
    arm_python -m pytest -q -p qemu_pytest_plugin -p no:cacheprovider -k "$sim_k" $sim_files || rc=$?
    case $rc in
        0) arm_log "stage consensus-sim ($(echo $sim_files) -k $sim_k): ok ($((SECONDS - t)) s)" ;;
        5) arm_log "stage consensus-sim: no test matches -k $sim_k in $(echo $sim_files), not run" ;;
        *) arm_die "consensus simulation failed under qemu" ;;
    esac
fi

arm_log "PASS on aarch64 (qemu-user) with the C backend in $((SECONDS - started)) s (stages:$stages)"
