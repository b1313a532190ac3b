#!/usr/bin/env bash
# Regenerate the example projects committed under generated/ (run after changing the emitter, the runtime or
# the templates; tests/test_examples.py fails until the committed copies match what codegen writes).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-${CODEGEN_VENV:-$HOME/.cache/codegen/venv}/bin/python}
for board in emulated_stm32f405 emulated_rv32imc esp32dev nucleo_l4r5zi; do
    "$PY" -m codegen --board "$board" --model models/squeezenet_int8.tflite --force >/dev/null
done
echo "regenerated: $(ls -d generated/*/ | tr '\n' ' ')"
