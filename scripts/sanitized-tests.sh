#!/usr/bin/env bash
# The compiled impls under AddressSanitizer and UndefinedBehaviorSanitizer: ext/ built in a
# copy of this checkout with -fsanitize=address,undefined (the first report aborts the run),
# then the tests that call every binding (results, edges near 2**63 - 1, refused arguments,
# buffers; --capture=sys lets a report reach the terminal). Python itself is not instrumented,
# so ASan's runtime is preloaded and its leak check is off (the interpreter keeps memory until
# exit on purpose).
# Usage: scripts/sanitized-tests.sh [PYTHON]   (a Python with gilkit's test extra installable)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar --exclude=./.git --exclude='*.so' --exclude=./build -cf - . | (mkdir "$work/tree" && tar -xf - -C "$work/tree")
"$python" -m venv "$work/venv"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
(
    cd "$work/tree"
    CFLAGS="$sanitize" LDFLAGS="-fsanitize=address,undefined" \
        "$work/venv/bin/pip" install -q -e ".[test]"
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)" \
        ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$work/venv/bin/python" -m pytest -q -p no:cacheprovider --capture=sys \
        tests/test_edges.py tests/test_kernels.py tests/test_bindings.py
)
