#!/usr/bin/env bash
# One entry point for people and CI.
#   bash run.sh demo   - the main job on the built-in default (digits data, emulated STM32F405)
#   bash run.sh test   - the whole test suite
#   eval "$(bash run.sh path)"  - install if needed, then put `codegen` and `pio` on PATH in this shell
# Each installs what it needs on first use: Debian packages (ARM and RISC-V toolchains, QEMU, socat) and a Python
# 3.11-3.13 virtual environment with the pinned packages (kept in $CODEGEN_VENV, default ~/.cache/codegen/venv).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV=${CODEGEN_VENV:-$HOME/.cache/codegen/venv}
APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm gcc
              gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc socat)

say() { printf '==> %s\n' "$*" >&2; }

# The first python3.X (X = 11..13) that has the venv module; prints nothing when there is none.
find_python() {
    local c
    for c in ${CODEGEN_PYTHON:-} python3 python3.13 python3.12 python3.11; do
        command -v "$c" >/dev/null 2>&1 || continue
        "$c" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null || continue
        "$c" -c 'import ensurepip, venv' >/dev/null 2>&1 || continue
        command -v "$c"; return 0
    done
    return 0
}

# Debian package that provides a suitable Python with venv on this release (Debian 12/13, Ubuntu 22.04/24.04).
python_packages() {
    local v=""
    if command -v python3 >/dev/null 2>&1; then
        v=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    fi
    case "$v" in
        "") echo "python3 python3-venv python3-dev" ;;                        # no python3 yet: the release's own
        3.11|3.12|3.13) echo "python3-venv python3-dev python${v}-venv" ;;   # Debian 12/13, Ubuntu 24.04
        *) echo "python3.11 python3.11-venv python3.11-dev" ;;               # Ubuntu 22.04 (python3 is 3.10)
    esac
}

install_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ -z "$(find_python)" ]; then
        # shellcheck disable=SC2207
        missing+=($(python_packages))
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        local sudo=""
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null 2>&1 || { say "run as root or install sudo: apt-get install ${missing[*]}"; exit 1; }
            sudo="sudo"
        fi
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    PYTHON=$(find_python)
    if [ -z "$PYTHON" ]; then
        say "no Python 3.11, 3.12 or 3.13 with the venv module found: install python3.11 and python3.11-venv" \
            "(or python3.12/3.13 with its -venv package), or point CODEGEN_PYTHON at one"
        exit 1
    fi
}

install_venv() {
    local stamp want
    local pyver
    pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    want=$( (cat pyproject.toml setup.py; echo "$pyver") | sha256sum | cut -c1-16)
    stamp="$VENV/.codegen-deps"
    if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null; then
        say "the virtual environment $VENV has an unsupported Python: recreating it with $PYTHON"
        rm -rf "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtual environment $VENV with $PYTHON (Python $pyver)"
        mkdir -p "$(dirname "$VENV")"
        "$PYTHON" -m venv "$VENV" || { rm -rf "$VENV"; say "$PYTHON -m venv failed: install python${pyver}-venv"; exit 1; }
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python packages into $VENV: about 1 GB to download (TensorFlow is most of it), 5-15 minutes" \
            "on a typical connection, about 1 minute from a local package mirror"
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
        export PATH="$VENV/bin:$PATH"
        exec "$VENV/bin/python" -m codegen.demo "$@"
        ;;
    test)
        install_apt; install_venv
        # tests run `pio`, `codegen` and friends as commands: the venv's bin/ first on PATH
        export PATH="$VENV/bin:$PATH"
        # everything the board tests need is installed above: a skip in tests/boards_real is a failure here
        export CODEGEN_BOARD_TESTS_STRICT=1
        set +e
        "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
        rc=$?
        set -e
        # pytest exits 5 when it collected no test: that is a failure of the suite, not a pass
        if [ $rc -eq 5 ]; then say "pytest collected no tests"; exit 1; fi
        exit $rc
        ;;
    path)
        [ -x "$VENV/bin/codegen" ] && [ -x "$VENV/bin/pio" ] || { install_apt >&2; install_venv >&2; }
        printf 'export PATH="%s/bin:$PATH"\n' "$VENV"
        ;;
    *)
        echo "usage: bash run.sh demo|test|path [args]" >&2
        exit 2
        ;;
esac
