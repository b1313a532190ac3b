"""What the sparse convolution tests (test_conv_columns.py, test_conv_columns_s8.py, test_sparse24.py) share: a
Keras Conv2D with given float weights, and the emulated-board check (the board or a skip, then ``codegen
validate`` of the generated project: device == TFLM == host C on every sample)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def conv2d_with(K, x, w: np.ndarray, seed: int, s: int, pad: str, act: str | None):  # noqa: ANN001, ANN201, N803
    """Conv2D of the first input with weights ``w`` [KH, KW, I, O] and a random bias (seed + 1)."""
    filters, k = w.shape[3], w.shape[0]
    b = np.random.default_rng(seed + 1).normal(0.0, 0.2, filters).astype(np.float32)
    return K.layers.Conv2D(filters, k, strides=s, padding=pad, activation=act,
                           kernel_initializer=K.initializers.Constant(w),
                           bias_initializer=K.initializers.Constant(b))(x[0])


def emulated_board(name: str):  # noqa: ANN201
    """The board ``name``, or skip the test where its emulator or toolchain is missing."""
    from codegen.boards import load_board
    from codegen.hil.pytest_plugin import emulator_skip_reason

    board = load_board(name)
    reason = emulator_skip_reason(board)
    if reason:
        pytest.skip(reason)
    return board


def validate_exact(project: Path, model: Path, capsys: pytest.CaptureFixture) -> None:
    """``codegen validate`` of the project on 20 samples passes, the device bit-exact on all of them."""
    from codegen.cli import main

    rc = main(["validate", "--project", str(project), "--model", str(model), "--samples", "20", "--timeout", "60",
               "--no-plots", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0
