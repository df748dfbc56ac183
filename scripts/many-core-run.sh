#!/usr/bin/env bash
# The default `gilkit run` on a borrowed many-core machine, as one prepared step: install this
# checkout without the network, run gilkit on its defaults, and keep the table, the report, the
# result file and the wall time under $OUT (or ./many-core-run). The `of cap` column of the
# table is each cell's efficiency against the capacity measured in the same run.
#
#     OUT=/some/folder scripts/many-core-run.sh [SECONDS]   # SECONDS: the run's limit (240)
#
# The machine needs a python3 with Cython, NumPy, psutil, rich and threadpoolctl (pybind11 is
# optional). Each step has its own limit and ends on SIGINT, as Ctrl-C would end it, so that a
# run stopped early still writes the cells it measured.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-many-core-run}
limit=${1:-240}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 COLUMNS=${COLUMNS:-160}

{
    echo "cpus: $(python3 -c 'import os; print(os.cpu_count(), "logical,", len(os.sched_getaffinity(0)), "usable")')"
    python3 --version
} | tee "$out/machine.txt"

if ! timeout -s INT 180 python3 -m pip install -q --no-build-isolation --no-deps -e . \
    > "$out/install.log" 2>&1; then
    tail -20 "$out/install.log"
    exit 1
fi

start=$(date +%s)
timeout -s INT "$limit" gilkit run --json "$out/run.json" > "$out/run.txt" 2>&1
status=$?
echo "gilkit run: exit $status, $(($(date +%s) - start)) s wall" >> "$out/run.txt"
cat "$out/run.txt"
if [ -s "$out/run.json" ]; then
    timeout -s INT 60 gilkit report "$out/run.json" > "$out/report.md" 2>&1
fi
exit "$status"
