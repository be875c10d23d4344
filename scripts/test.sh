#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   installs what is missing, builds with ASan+UBSan, makes real guest dumps
#   (boots a Debian kernel under QEMU; cached in $XA_CACHE), runs the Meson
#   tests (unit, dump and guest tests), the Python tests and each libFuzzer
#   target for $XA_FUZZ_SECONDS (5 s; 0 leaves them out), and ends with a
#   line "N passed, N failed, N skipped".
# Under CI=true (or XA_REQUIRE=all) a test that cannot run is a failure, not
# a skip (tests/xatest.py skip_or_fail(), tests/unit/require.h), and so are
# guest dumps that could not be made.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export XA_CACHE=${XA_CACHE:-/var/tmp/xenaccess-cache}
export XA_BUILD=${XA_BUILD:-$ROOT/build-test}
export XA_TEST_DUMPS=${XA_TEST_DUMPS:-$XA_CACHE/dumps}
export XA_BACKEND_DIR=${XA_BACKEND_DIR:-$XA_BUILD/backends}  # loadable backends, uninstalled
# Abort with a report on the first sanitizer finding.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
strict=0
case "${CI:-}" in true|1|yes) strict=1 ;; esac
[ "${XA_REQUIRE:-}" = all ] && strict=1
LOG=$ROOT/build-test-logs
mkdir -p "$LOG"

step() { printf '\n== %s  [%ds]\n' "$*" "$SECONDS"; }

step "dependencies"
sh scripts/deps.sh || { echo "deps failed"; echo "0 passed, 1 failed"; exit 1; }

step "build (ASan + UBSan, warnings are errors)"
if [ ! -f "$XA_BUILD/build.ninja" ]; then
    meson setup "$XA_BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
        >"$LOG/setup.log" 2>&1 || { cat "$LOG/setup.log"; echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$XA_BUILD" >"$LOG/build.log" 2>&1 || { tail -40 "$LOG/build.log"; echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0; skipped=0

# The libFuzzer build (clang, ~30 s) goes on in the background at the lowest
# priority: the tests leave a core idle much of the time (one tool runs at a
# time); the fuzz stage waits for it and finds the targets built.
fuzz_build=""
if [ "${XA_FUZZ_SECONDS:-5}" != 0 ]; then
    XA_FUZZ_BUILD_ONLY=1 nice -n 19 bash scripts/fuzz.sh >"$LOG/fuzz-build.log" 2>&1 &
    fuzz_build=$!
fi

step "guest dumps (real Debian kernel under QEMU TCG; cached)"
for kind in l4 l5 i386 i386pae; do
    flag=""; [ $kind = l5 ] && flag="--la57"
    case $kind in i386*) flag="--arch $kind" ;; esac  # 32-bit guests (issue 18)
    if ! /usr/bin/python3 tests/guest/harness.py make-dumps --out "$XA_TEST_DUMPS/$kind" $flag \
        >"$LOG/dumps-$kind.log" 2>&1; then
        echo "making $kind dumps failed (the tests that need them cannot run):"
        tail -20 "$LOG/dumps-$kind.log"
        [ $strict = 1 ] && failed=$((failed + 1))
    fi
done

# AArch64 guest (issue 18): qemu-system-aarch64 under TCG, ~1 min to make;
# tests/arm64 checks the tools on it (dumps and live, ~2.5 min).
if ! { sh tests/guest/deps-arm64.sh && /usr/bin/python3 tests/guest/arm64.py make-dumps \
        --out "$XA_TEST_DUMPS/arm64"; } >"$LOG/dumps-arm64.log" 2>&1; then
    echo "making arm64 dumps failed (the tests that need them cannot run):"
    tail -20 "$LOG/dumps-arm64.log"
    [ $strict = 1 ] && failed=$((failed + 1))
fi

# Other amd64 kernels (issue 14): the newest Debian 5.10 and 6.12, and 6.1's
# PREEMPT_RT and cloud flavours, 4-level (tests/guest/kernels.py;
# tests/kernels checks every view on them).
for series in 5.10 6.12 6.1-rt 6.1-cloud; do
    if /usr/bin/python3 tests/guest/kernels.py make-dumps --series $series \
        --out "$XA_TEST_DUMPS/linux-$series" >"$LOG/dumps-linux-$series.log" 2>&1; then
        tail -1 "$LOG/dumps-linux-$series.log"  # the package that ran
    else
        echo "making linux-$series dumps failed (the tests that need them cannot run):"
        tail -20 "$LOG/dumps-linux-$series.log"
        [ $strict = 1 ] && failed=$((failed + 1))
    fi
done

step "meson tests"
meson test -C "$XA_BUILD" --print-errorlogs --num-processes 2 2>&1 | tee "$LOG/meson-test.log" | grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Expected Fail|Unexpected Pass|Timeout):"
m_ok=$(grep -E '^Ok:' "$LOG/meson-test.log" | awk '{print $2}')
m_fail=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$LOG/meson-test.log" | awk '{s+=$2} END {print s+0}')
m_skip=$(grep -E '^Skipped:' "$LOG/meson-test.log" | awk '{print $2}')
if [ -z "$m_ok" ]; then m_fail=$((m_fail + 1)); m_ok=0; fi
if [ "${m_skip:-0}" -gt 0 ]; then
    # exit 77 is "cannot run": allowed outside CI, with its reason
    echo "-- meson tests that did not run (reasons: $XA_BUILD/meson-logs/testlog.txt):"
    grep -E '^ *[0-9]+/[0-9]+ .* SKIP ' "$LOG/meson-test.log"
    grep -hE '^SKIP: ' "$XA_BUILD/meson-logs/testlog.txt" | sort -u
    if [ $strict = 1 ]; then
        echo "   (a failure under CI=true / XA_REQUIRE=all)"
        m_fail=$((m_fail + m_skip)); m_skip=0
    fi
fi
if [ "$m_fail" -gt 0 ]; then
    echo "-- output of the failed meson tests (whole log: $LOG/meson-test.log)"
    awk '/✀/ {p = 1} p' "$LOG/meson-test.log" | grep -vE '^ *[0-9]+/[0-9]+ .* (OK|SKIP) ' | tail -150
fi
passed=$((passed + m_ok)); failed=$((failed + m_fail)); skipped=$((skipped + ${m_skip:-0}))

step "python tests (real guests: dumps and live)"
if ls tests/*/test_*.py >/dev/null 2>&1; then
    /usr/bin/python3 -m pytest -q -rfEs -p no:cacheprovider -o addopts="" --durations=12 tests 2>&1 | tee "$LOG/pytest.log" | tail -25
    line=$(grep -E '(passed|failed|error|skipped|no tests ran)' "$LOG/pytest.log" | tail -1)
    p_ok=$(echo "$line" | grep -oE '[0-9]+ passed' | awk '{print $1}')
    p_fail=$(echo "$line" | grep -oE '[0-9]+ (failed|error|errors)' | awk '{s+=$1} END {print s+0}')
    p_skip=$(echo "$line" | grep -oE '[0-9]+ skipped' | awk '{print $1}')
    [ -z "$line" ] && p_fail=1
    # tests/conftest.py already turns skips into failures under CI; a skip
    # left (at collection) still counts as one
    [ $strict = 1 ] && { p_fail=$((${p_fail:-0} + ${p_skip:-0})); p_skip=0; }
    passed=$((passed + ${p_ok:-0})); failed=$((failed + ${p_fail:-0})); skipped=$((skipped + ${p_skip:-0}))
fi

FUZZ_SECONDS=${XA_FUZZ_SECONDS:-5}  # 22 targets, two at a time (~1 min): a smoke run on top of the corpus; long runs are by hand
if [ "$FUZZ_SECONDS" != 0 ]; then
    step "libFuzzer: each target ${FUZZ_SECONDS}s on top of its corpus, two at a time"
    [ -n "$fuzz_build" ] && wait "$fuzz_build"  # its failure: fuzz.sh builds again and says why
    # its own ASan options (allocation failures return NULL, as fuzz.sh sets)
    env -u ASAN_OPTIONS XA_FUZZ_RECORD=0 XA_FUZZ_JOBS=2 bash scripts/fuzz.sh "$FUZZ_SECONDS" \
        >"$LOG/fuzz.log" 2>&1
    grep -vE '^fuzz [a-z0-9_]+: ' "$LOG/fuzz.log" | tail -40
    f_ok=$(grep -cE '^fuzz [a-z0-9_]+: ok$' "$LOG/fuzz.log")
    f_fail=$(grep -cE '^fuzz [a-z0-9_]+: FAILED' "$LOG/fuzz.log")
    grep -E '^fuzz [a-z0-9_]+: FAILED' "$LOG/fuzz.log"
    [ $((f_ok + f_fail)) -eq 0 ] && { echo "fuzzing printed no verdicts: $LOG/fuzz.log"; f_fail=1; }
    echo "fuzz: $f_ok ok, $f_fail failed (a crash input joins the regression corpus: docs/fuzzing.md)"
    passed=$((passed + f_ok)); failed=$((failed + f_fail))
elif [ $strict = 1 ]; then
    echo "XA_FUZZ_SECONDS=0 under CI=true / XA_REQUIRE=all: the fuzz targets did not run"
    failed=$((failed + 1))
fi

echo
echo "suite took ${SECONDS}s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
