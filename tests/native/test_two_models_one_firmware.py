"""Two generated networks with different prefixes link into one program and both compute what the host does."""

from __future__ import annotations

import subprocess

import numpy as np

from codegen import host
from codegen.backend.native import generate
from codegen.frontend import load_model
from tests.conftest import shared_model

MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "kws.h"
#include "ad.h"

int main(void)
{
    if (kws_init() != CG_OK || ad_init() != CG_OK) return 2;
    memset(kws_input(0), 3, kws_input_info(0)->nbytes);
    memset(ad_input(0), -5, ad_input_info(0)->nbytes);
    if (kws_run() != CG_OK || ad_run() != CG_OK) return 3;
    const signed char *a = (const signed char *)kws_output(0);
    const signed char *b = (const signed char *)ad_output(0);
    for (unsigned i = 0; i < kws_output_info(0)->nbytes; i++) printf("%d ", a[i]);
    printf("\n");
    for (unsigned i = 0; i < ad_output_info(0)->nbytes; i++) printf("%d ", b[i]);
    printf("\n");
    return 0;
}
"""


def test_two_prefixed_networks_link_and_run_side_by_side(tmp_path):
    kws_path, ad_path = shared_model("kws_dscnn_int8.tflite"), shared_model("ad01_fc_autoencoder_int8.tflite")
    for prefix, path in (("kws", kws_path), ("ad", ad_path)):
        for name, data in generate(load_model(path), prefix=prefix).files.items():
            target = tmp_path / name
            assert not target.exists() or target.read_bytes() == data, f"{name} differs between the two networks"
            target.write_bytes(data)
    (tmp_path / "main.c").write_text(MAIN)
    sources = sorted(str(p) for p in tmp_path.glob("*.c"))
    exe = tmp_path / "two"
    build = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-I", str(tmp_path), *sources,
                            "-lm", "-o", str(exe)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    kws_out, ad_out = ([int(v) for v in line.split()] for line in run.stdout.strip().splitlines())

    kws, ad = host.compile(load_model(kws_path)), host.compile(load_model(ad_path))
    want_kws = kws.predict([np.full(kws.inputs[0].shape, 3, np.int8)])[0].reshape(-1)
    want_ad = ad.predict([np.full(ad.inputs[0].shape, -5, np.int8)])[0].reshape(-1)
    assert kws_out == want_kws.tolist()
    assert ad_out == want_ad.tolist()
