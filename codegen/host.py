"""Compile generated C for the host with gcc and run it from Python (ctypes), or as a sanitized executable.

``compile(model_or_graph)`` generates the sources, builds a shared library in a cache folder keyed by the
content of the sources and the flags (so identical models are built once), and returns a :class:`HostModel`
whose ``predict`` runs one inference. ``sanitize=True`` builds an executable with
``-fsanitize=address,undefined`` instead (a shared library cannot load the sanitizer runtime under Python) and
runs each batch of inputs through it as a subprocess.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from codegen import ir
from codegen.backend.native.emitter import IOSpec, NativeOptions, NativeSources, generate
from codegen.errors import CodegenError

log = logging.getLogger(__name__)

# -ffp-contract=off: no fused multiply-add contraction, so float kernels round every product like TFLM and like
# the board builds (same flag in platform/builder/main.py and the project templates; docs/float-exactness.md).
CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off")
SANITIZE_FLAGS = (
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-g",
    "-DCG_CHECK_BOUNDS",  # each layer may only touch its own arena buffers (codegen.backend.native.bounds)
)

_RUNNER = r"""/* Host runner for sanitizer builds: reads N input sets from stdin, writes N output sets to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "{prefix}.h"

int main(int argc, char **argv)
{{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    long k;
    int i;
    if ({prefix}_init() != CG_OK) {{
        return 3;
    }}
    for (k = 0; k < n; k++) {{
        cg_status st;
        for (i = 0; i < {P}_NUM_INPUTS; i++) {{
            const cg_tensor_info *info = {prefix}_input_info(i);
            if (fread({prefix}_input(i), 1, info->nbytes, stdin) != info->nbytes) {{
                return 4;
            }}
        }}
        st = {prefix}_run();
        if (st != CG_OK) {{
            fprintf(stderr, "run failed: %s\n", cg_status_str(st));
            return 5;
        }}
        for (i = 0; i < {P}_NUM_OUTPUTS; i++) {{
            const cg_tensor_info *info = {prefix}_output_info(i);
            fwrite({prefix}_output(i), 1, info->nbytes, stdout);
        }}
    }}
    return 0;
}}
"""


def default_cache_dir() -> Path:
    env = os.environ.get("CODEGEN_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "codegen"


def _gcc() -> str:
    gcc = shutil.which(os.environ.get("CC", "gcc"))
    if gcc is None:
        raise CodegenError("no C compiler found for the host build", hint="install gcc or set CC")
    return gcc


@dataclass
class HostModel:
    """A generated network compiled for the host."""

    sources: NativeSources
    path: Path
    sanitize: bool
    _lib: ctypes.CDLL | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.sanitize:
            lib = ctypes.CDLL(str(self.path))
            p = self.sources.prefix
            for fn in ("init", "run"):
                getattr(lib, f"{p}_{fn}").restype = ctypes.c_int
            for fn in ("input", "output"):
                getattr(lib, f"{p}_{fn}").restype = ctypes.c_void_p
                getattr(lib, f"{p}_{fn}").argtypes = [ctypes.c_int]
            status = getattr(lib, f"{p}_init")()
            if status != 0:
                raise RuntimeError(f"{p}_init failed with status {status}")
            self._lib = lib

    @property
    def inputs(self) -> tuple[IOSpec, ...]:
        return self.sources.inputs

    @property
    def outputs(self) -> tuple[IOSpec, ...]:
        return self.sources.outputs

    def _input_bytes(self, x: np.ndarray | list[np.ndarray]) -> list[bytes]:
        xs = x if isinstance(x, (list, tuple)) else [x]
        if len(xs) != len(self.inputs):
            raise ValueError(f"model has {len(self.inputs)} inputs, got {len(xs)} arrays")
        out = []
        for arr, spec in zip(xs, self.inputs, strict=True):
            a = np.asarray(arr)
            if a.dtype != spec.dtype.np:
                raise ValueError(f"input {spec.name} is {spec.dtype.value}, got {a.dtype}")
            if a.size * a.itemsize != spec.nbytes:
                raise ValueError(f"input {spec.name} has shape {list(spec.shape)}, got {list(a.shape)}")
            out.append(np.ascontiguousarray(a).tobytes())
        return out

    def _outputs_from(self, blob: bytes) -> list[np.ndarray]:
        res, pos = [], 0
        for spec in self.outputs:
            res.append(
                np.frombuffer(blob[pos : pos + spec.nbytes], dtype=spec.dtype.np).reshape(spec.shape).copy()
            )
            pos += spec.nbytes
        return res

    def predict(self, x: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
        """Run one inference; returns the outputs in graph order."""
        if self.sanitize:
            return self.predict_many([x])[0]
        if self._lib is None:
            raise RuntimeError("the host library is not loaded")
        p = self.sources.prefix
        for i, data in enumerate(self._input_bytes(x)):
            ctypes.memmove(getattr(self._lib, f"{p}_input")(i), data, len(data))
        status = getattr(self._lib, f"{p}_run")()
        if status != 0:
            raise RuntimeError(f"{p}_run failed with status {status}")
        blob = b"".join(
            ctypes.string_at(getattr(self._lib, f"{p}_output")(i), s.nbytes)
            for i, s in enumerate(self.outputs)
        )
        return self._outputs_from(blob)

    def reset(self) -> None:
        """Clear the variable (state) tensors (``P_reset``: what a fresh TFLM interpreter starts from). Runs carry
        state from one to the next otherwise; a sanitized build starts every :meth:`predict_many` fresh."""
        if self._lib is not None:
            getattr(self._lib, f"{self.sources.prefix}_reset")()

    def predict_many(self, xs: list) -> list[list[np.ndarray]]:
        if not self.sanitize:
            return [self.predict(x) for x in xs]
        data = b"".join(b for x in xs for b in self._input_bytes(x))
        proc = subprocess.run(
            [str(self.path), str(len(xs))], input=data, capture_output=True, timeout=600, check=False
        )
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace")
            raise RuntimeError(f"sanitized run failed (exit {proc.returncode}):\n{err}")
        per = sum(s.nbytes for s in self.outputs)
        return [self._outputs_from(proc.stdout[k * per : (k + 1) * per]) for k in range(len(xs))]

    def time_run(self, repeats: int = 20) -> float:
        """Seconds per ``run()`` on the current inputs (host library builds only)."""
        if self._lib is None:
            raise RuntimeError("timing needs a non-sanitized build")
        run = getattr(self._lib, f"{self.sources.prefix}_run")
        run()
        t0 = time.perf_counter()
        for _ in range(repeats):
            run()
        return (time.perf_counter() - t0) / repeats


def _as_graph(model: ir.Graph | str | Path) -> ir.Graph:
    if isinstance(model, ir.Graph):
        return model
    from codegen.frontend import load_model

    return load_model(model)


def build(
    sources: NativeSources,
    *,
    sanitize: bool = False,
    opt: str = "-O2",
    cache_dir: str | Path | None = None,
    extra_cflags: tuple[str, ...] = (),
) -> Path:
    """Compile ``sources``; returns the shared library (or the sanitized executable). Cached by content."""
    gcc = _gcc()
    flags = (*CFLAGS, opt, *(SANITIZE_FLAGS if sanitize else ("-fPIC", "-shared")), *extra_cflags)
    files = dict(sources.files)
    if sanitize:
        files["host_runner.c"] = _RUNNER.format(prefix=sources.prefix, P=sources.prefix.upper()).encode()
    h = hashlib.sha256()
    h.update(" ".join((gcc, *flags)).encode())
    for name, data in sorted(files.items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    key = h.hexdigest()[:24]
    root = Path(cache_dir or default_cache_dir()) / "host" / key
    out = root / (f"{sources.prefix}_runner" if sanitize else f"lib{sources.prefix}.so")
    if out.exists():
        return out
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (src / name).write_bytes(data)
    c_files = sorted(str(src / n) for n in files if n.endswith(".c"))
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    cmd = [gcc, *flags, "-I", str(src), *c_files, "-o", str(tmp), "-lm"]
    log.debug("host build: %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CodegenError(
            f"host compilation of the generated C failed:\n{proc.stderr.strip()}",
            hint="this is a bug in the native backend; please report it with the model",
        )
    tmp.replace(out)
    return out


def compile(
    model: ir.Graph | str | Path,
    prefix: str = "cg_net",
    *,
    sanitize: bool = False,
    opt: str = "-O2",
    cache_dir: str | Path | None = None,
    options: NativeOptions | None = None,
    extra_cflags: tuple[str, ...] = (),
) -> HostModel:
    """Generate C for ``model`` (a Graph or a .tflite path), compile it for the host and load it."""
    sources = generate(_as_graph(model), prefix=prefix, options=options)
    path = build(sources, sanitize=sanitize, opt=opt, cache_dir=cache_dir, extra_cflags=extra_cflags)
    return HostModel(sources, path, sanitize)
