#!/usr/bin/env bash
# Compares our Krippendorff's nominal alpha with the Python package `krippendorff` on the data of
# crates/agreement/benches/alpha.rs (1,000,000 units x 4 coders, 5 categories, 10% missing):
# the same value (to 1e-9) and the time of each.
#
#   bash bench/krippendorff_compare.sh            # from the repository root
#
# The package and numpy go into a venv under target/ (benchmark only, never a dependency of the
# product). Needs python3 with venv, cargo, and PyPI for the first run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/target/krippendorff"
venv="$work/venv"
table="$work/table.u8"
runs="${RUNS:-5}"
mkdir -p "$work"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating $venv" >&2
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import krippendorff, numpy, threadpoolctl' 2>/dev/null; then
    # threadpoolctl only to report which BLAS kernel numpy runs.
    "$venv/bin/pip" install --quiet --disable-pip-version-check krippendorff numpy threadpoolctl
fi

# Our value and time; the bench also writes the table it used.
rust_out="$(cd "$root" && BETWEEN_DUMP="$table" cargo bench --quiet -p between-agreement --bench alpha 2>/dev/null | tail -n 1)"
echo "$rust_out" >&2
rust_ms="$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' <<<"$rust_out")"
rust_value="$(sed -n 's/.*= \(.*\)$/\1/p' <<<"$rust_out")"
[[ -n "$rust_ms" && -n "$rust_value" ]] || { echo "could not read the Rust bench's output" >&2; exit 1; }

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this machine for old OpenBLAS builds; they
# slow a current numpy, so they are unset for this one command only.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" - "$table" "$runs" "$rust_ms" "$rust_value" <<'PY'
import importlib.metadata
import platform
import statistics
import sys
import time

import krippendorff
import numpy as np

path, runs, rust_ms, rust_value = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
cells = np.fromfile(path, dtype=np.uint8).reshape(-1, 4)  # units x coders
data = cells.T.astype(np.float64)  # the package wants coders x units, NaN for missing
data[cells.T == 255] = np.nan

try:
    from threadpoolctl import threadpool_info
    blas = ", ".join(
        f"{i.get('internal_api')} {i.get('version')} kernel {i.get('architecture')}, {i.get('num_threads')} threads"
        for i in threadpool_info()
    ) or "none loaded"
except ImportError:
    blas = "threadpoolctl not installed"

times = []
value = None
for _ in range(runs):
    t = time.perf_counter()
    value = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    times.append(time.perf_counter() - t)
py_ms = statistics.median(times) * 1000
diff = abs(value - rust_value)
ok = diff <= 1e-9

units, coders = data.shape[1], data.shape[0]
missing = np.isnan(data).mean()
print(f"data: {units:,} units x {coders} coders, {missing:.1%} missing (from {path})")
print(f"krippendorff {importlib.metadata.version('krippendorff')}, "
      f"numpy {np.__version__}, Python {platform.python_version()}; BLAS: {blas}")
print()
print(f"| implementation | median time | alpha (nominal) |")
print(f"|---|---:|---:|")
print(f"| between-agreement (Rust, cargo bench, 7 runs) | {rust_ms:.1f} ms | {rust_value:.15f} |")
print(f"| Python krippendorff ({runs} runs) | {py_ms:.1f} ms | {value:.15f} |")
print()
print(f"difference {diff:.3e}: {'agree to 1e-9' if ok else 'DISAGREE beyond 1e-9'}; "
      f"the Python package takes {py_ms / rust_ms:.1f}x as long")
sys.exit(0 if ok else 1)
PY
