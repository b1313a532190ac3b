"""Long mutation-fuzzing run: reader + validation + generation on mutants of small models; accepted mutants are
compiled with ASan/UBSan and the CG_CHECK_BOUNDS guard, run, and compared with TFLM (in a child process).

    python benchmarks/fuzz/fuzz.py --mutants 5000 --compile 200 --seed 1 --out benchmarks/fuzz/results.md

Records: mutants tried, refused (by stage), accepted, tracebacks, and for the compiled ones: exact, no reference,
mismatches, sanitizer crashes. Exit status 1 if any traceback, crash or mismatch was found.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from codegen import __version__  # noqa: E402
from tests.safety.fuzz import Tally, classify, mutate, run_accepted, seeds  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=5000)
    ap.add_argument("--compile", type=int, default=200, help="accepted mutants compiled, run and compared")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the results as Markdown here")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    models = seeds()
    names = sorted(models)
    tally = Tally()
    per_seed: Counter = Counter()
    compiled_by: Counter = Counter()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="codegen-fuzz-") as cache:
        for i in range(args.mutants):
            name = names[rng.randrange(len(names))]
            data, what = mutate(models[name], rng.randint)
            outcome = classify(data)
            tally.add(outcome, f"#{i} {name}: {what}")
            per_seed[(name, outcome.kind)] += 1
            if outcome.kind == "accepted" and sum(tally.compiled.values()) < args.compile:
                result = run_accepted(data, outcome, cache)
                kind = result.split(":")[0]
                tally.compiled[kind] += 1
                compiled_by[name] += 1
                if kind in ("mismatch", "crash"):
                    tally.failures.append(f"#{i} {name}: {what}: {result}")
            if (i + 1) % 500 == 0:
                print(f"{i + 1} mutants, {tally.accepted} accepted, {len(tally.tracebacks)} tracebacks, "
                      f"compiled {dict(tally.compiled)}, {time.time() - t0:.0f} s", flush=True)
    elapsed = time.time() - t0
    refused = sum(tally.refused.values())
    lines = [
        "# Mutation fuzzing: reader, validation, generation, sanitized execution",
        "",
        f"Command: `python benchmarks/fuzz/fuzz.py --mutants {args.mutants} --compile {args.compile} "
        f"--seed {args.seed}`",
        "",
        f"codegen {__version__}, Python {platform.python_version()}, {platform.machine()}; {elapsed:.0f} s.",
        f"Seed models: {len(names)} (a valid single-operator model for each of {len(names) - 2} operators, a "
        "conv/depthwise/"
        "pool/reshape/FC/softmax chain and an add/concat/mean graph; int8 except EXP and RSQRT; from tests/safety).",
        "",
        "| what | count |",
        "|---|---|",
        f"| mutants tried | {tally.tried} |",
        f"| refused by the reader or the validation pass (exit 2, one line) | {tally.refused['read/validate']} |",
        f"| refused by the native backend (exit 2, one line) | {tally.refused['generate']} |",
        f"| accepted (C generated, bounds proven) | {tally.accepted} |",
        f"| tracebacks | {len(tally.tracebacks)} |",
        f"| accepted and compiled with ASan/UBSan + CG_CHECK_BOUNDS, run on 3 inputs | "
        f"{sum(tally.compiled.values())} |",
        f"| ... bit-exact with TFLM | {tally.compiled['exact']} |",
        f"| ... TFLM cannot run the mutant either (compared with nothing) | {tally.compiled['no-reference']} |",
        f"| ... different from TFLM | {tally.compiled['mismatch']} |",
        f"| ... sanitizer or guard reports (crashes) | {tally.compiled['crash']} |",
        "",
        f"Refused + accepted + tracebacks = {refused} + {tally.accepted} + {len(tally.tracebacks)} = "
        f"{refused + tally.accepted + len(tally.tracebacks)}.",
    ]
    if tally.tracebacks or tally.failures:
        lines += ["", "## Findings", ""]
        lines += [f"- {t.splitlines()[0]}: {t.strip().splitlines()[-1]}" for t in tally.tracebacks[:20]]
        lines += [f"- {f}" for f in tally.failures[:20]]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 1 if tally.tracebacks or tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
