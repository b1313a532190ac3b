#!/usr/bin/env bash
# One entry point for people and CI.
#   bash run.sh demo   - the main job on the built-in default (digits data, emulated STM32F405)
#   bash run.sh test   - the whole test suite
# Each installs what it needs on first use: Debian packages (ARM toolchain, QEMU) and a Python 3.11 virtual
# environment with the pinned packages (kept in $CODEGEN_VENV, default ~/.cache/codegen/venv).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV=${CODEGEN_VENV:-$HOME/.cache/codegen/venv}
APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm gcc)

say() { printf '==> %s\n' "$*" >&2; }

install_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ! command -v python3 >/dev/null 2>&1; then
        missing+=(python3 python3-venv python3-dev)
    elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

install_venv() {
    local stamp want
    want=$(cat pyproject.toml setup.py | sha256sum | cut -c1-16)
    stamp="$VENV/.codegen-deps"
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtual environment $VENV"
        mkdir -p "$(dirname "$VENV")"
        python3 -m venv "$VENV" || { rm -rf "$VENV"; say "python3 -m venv failed: install python3-venv"; exit 1; }
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python packages into $VENV (first run takes a few minutes)"
        "$VENV/bin/pip" install -q --upgrade pip
        "$VENV/bin/pip" install -q ".[test]"
        echo "$want" > "$stamp"
    fi
    # the package itself, from this checkout (not editable: this also checks that `pip install .` works)
    "$VENV/bin/pip" install -q --no-deps --force-reinstall . >/dev/null
    rm -rf build codegen.egg-info
}

export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
export TF_USE_LEGACY_KERAS=1
export PLATFORMIO_SETTING_ENABLE_TELEMETRY=No
export MPLBACKEND=Agg

cmd=${1:-demo}
shift || true
case "$cmd" in
    demo)
        install_apt; install_venv
        exec "$VENV/bin/python" -m codegen.demo "$@"
        ;;
    test)
        install_apt; install_venv
        set +e
        "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
        rc=$?
        set -e
        # pytest exits 5 when it collected no test: that is a failure of the suite, not a pass
        if [ $rc -eq 5 ]; then say "pytest collected no tests"; exit 1; fi
        exit $rc
        ;;
    *)
        echo "usage: bash run.sh demo|test [args]" >&2
        exit 2
        ;;
esac
