#!/usr/bin/env bash
# Install what `make run` / `make test` need and is missing: system packages (apt-get when root,
# otherwise print the exact command), then the Python virtual environment in $VENV.
# Idempotent and quiet when everything is already there.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
WANT=${1:-run}   # run | test

need_cmd() { command -v "$1" >/dev/null 2>&1; }
missing=()
need_cmd "$PYTHON" || missing+=(python3)
"$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
need_cmd cc || missing+=(build-essential)
# Python headers for the C speedups (optional: without them the pure twin is used).
"$PYTHON" - <<'PY' >/dev/null 2>&1 || missing+=(python3-dev)
import os, sysconfig
raise SystemExit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PY
if [ "$WANT" = test ]; then
  need_cmd socat || missing+=(socat)
  need_cmd softhsm2-util || missing+=(softhsm2)
  need_cmd pkcs11-tool || missing+=(opensc)
  need_cmd qemu-aarch64-static || missing+=(qemu-user-static)
  need_cmd aarch64-linux-gnu-gcc || missing+=(gcc-aarch64-linux-gnu)
  need_cmd node || missing+=(nodejs)
  need_cmd npm || missing+=(npm)
  need_cmd nft || missing+=(nftables)
  need_cmd ip || missing+=(iproute2)
  need_cmd systemd-analyze || missing+=(systemd)  # verifies hw/systemd units (issue 9)
fi

if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ] && need_cmd apt-get; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    $cmd -qq
  else
    echo "bootstrap: missing system packages: ${missing[*]}"
    echo "bootstrap: run as root:  sudo apt-get update && sudo $cmd"
    if [ "${CI:-}" = true ]; then exit 1; fi
  fi
fi

stamp="$VENV/.dusk-edge-installed"
inputs="setup.cfg setup.py pyproject.toml dusk_edge/_speedups.c"
if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
fresh=1
if [ -f "$stamp" ]; then
  fresh=0
  for f in $inputs; do [ "$f" -nt "$stamp" ] && fresh=1; done
fi
extras="hsm,test,bench"
[ "$WANT" = run ] && [ ! -f "$stamp.test" ] && extras="hsm"
if [ $fresh = 1 ] || { [ "$WANT" = test ] && [ ! -f "$stamp.test" ]; }; then
  echo "bootstrap: installing dusk-edge and its Python dependencies into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
  "$VENV/bin/python" -m pip install -q --prefer-binary -e ".[$extras]"
  touch "$stamp"
  [ "$extras" = "hsm,test,bench" ] && touch "$stamp.test"
fi
exit 0
