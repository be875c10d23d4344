#!/bin/bash
# The fuzz command: build the libFuzzer targets (clang, ASan + UBSan) and run
# each for a given time at the lowest priority; print executions,
# executions/s, coverage edges and crashes per target, and regenerate the
# table in docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 600, all)
#   targets: every tests/fuzz/fuzz_<target>.c
#
#   XA_FUZZ_JOBS=N     run N targets at a time (default 1)
#   XA_FUZZ_RECORD=0   leave tests/fuzz/results.tsv and docs/fuzzing.md alone
#                      (scripts/test.sh: a CI run does not edit the checkout)
#
# Ends with one line per target, "fuzz <target>: ok" or "fuzz <target>:
# FAILED ...", and exits non-zero when a target crashed or could not run.
# New inputs go to $XA_FUZZ_BUILD/fuzz-work/<target> (not committed); crash
# reproducers to $XA_FUZZ_BUILD/fuzz-artifacts/<target>/ (the line names
# the file). A fixed crash's input is kept as
# tests/fuzz/corpus/<target>/regress-<what> and replayed by the
# 'fuzz-regress' test suite from then on (docs/fuzzing.md).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-600}
shift 2>/dev/null || true
ALL_TARGETS=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ')
TARGETS=${*:-$ALL_TARGETS}
JOBS=${XA_FUZZ_JOBS:-1}
RECORD=${XA_FUZZ_RECORD:-1}
BUILD=${XA_FUZZ_BUILD:-$ROOT/build-libfuzzer}
RESULTS=$ROOT/tests/fuzz/results.tsv
DOC=$ROOT/docs/fuzzing.md

# Longest input each target is given (its input format decides).
max_len() {
    case $1 in
        walks) echo 769 ;;      # variant byte + 64 patch records
        task32) echo 513 ;;     # layout byte + 64 patch records
        proc32) echo 513 ;;     # likewise
        vma32) echo 513 ;;      # layout byte + 64 patch records
        files32) echo 513 ;;    # guest byte + 64 patch records
        sock32) echo 513 ;;     # count byte + 64 patch records
        checks) echo 768 ;;     # 64 patch records
        kallsyms) echo 131072 ;;
        discovery) echo 16384 ;; # header + one blob, tiled by the target
        arm64_discovery) echo 16384 ;; # likewise
        *) echo 65536 ;;
    esac
}

for p in clang libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
        echo "fuzz: installing $p" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
    }
done

mkdir -p "$BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
    # -Dwerror=false: clang warns where gcc does not; the gcc builds keep -Werror.
    CC=clang meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dwerror=false >"$BUILD/fuzz-setup.log" 2>&1 || {
        cat "$BUILD/fuzz-setup.log"
        for t in $TARGETS; do echo "fuzz $t: FAILED (meson setup: $BUILD/fuzz-setup.log)"; done
        exit 1
    }
fi
bins=""
for t in $TARGETS; do bins="$bins tests/fuzz/fuzz_$t"; done
if ! nice -n 19 ninja -C "$BUILD" $bins >"$BUILD/fuzz-build.log" 2>&1; then
    tail -30 "$BUILD/fuzz-build.log"
    for t in $TARGETS; do echo "fuzz $t: FAILED (not built: $BUILD/fuzz-build.log)"; done
    exit 1
fi
# scripts/test.sh builds ahead, in the background, and fuzzes later
[ "${XA_FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One target: writes its summary line and verdict to $BUILD/fuzz-$t.result.
fuzz_one() {
    local t=$1 work=$BUILD/fuzz-work/$1 art=$BUILD/fuzz-artifacts/$1 log=$BUILD/fuzz-$1.log
    mkdir -p "$work" "$art"
    local dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    local before start rc secs execs eps edges crashes fixed new
    before=$(ls "$art" | sort)
    start=$(date +%s)
    nice -n 19 "$BUILD/tests/fuzz/fuzz_$t" "$work" "tests/fuzz/corpus/$t" $dict \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len $t)" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    edges=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
    new=$(comm -13 <(echo "$before") <(ls "$art" | sort) | sed "s|^|$art/|" | tr '\n' ' ' | sed 's/ $//')
    crashes=$(echo $new | wc -w)
    # A crash libFuzzer could not save still counts; an interrupted run does not.
    if [ $rc -ne 0 ] && [ $crashes -eq 0 ] && ! grep -q 'run interrupted' "$log"; then
        crashes=1
    fi
    fixed=$(ls tests/fuzz/corpus/$t | grep -c '^regress-')
    {
        printf '%-9s %6ss  %10s execs  %7s exec/s  %5s edges  %s crashes (%s fixed earlier, kept as regress-*)\n' \
            "$t" "$secs" "${execs:-0}" "${eps:-0}" "${edges:-0}" "$crashes" "$fixed"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(date -u +%Y-%m-%d)" "$secs" "${execs:-0}" \
            "${eps:-0}" "${edges:-0}" "$crashes" "$fixed"
        if [ "$crashes" -ne 0 ]; then
            echo "fuzz $t: FAILED: crash input ${new:-(not saved, see the log)}; log $log"
            grep -m3 -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | sed 's/^/  /'
        elif [ -z "$execs" ]; then
            echo "fuzz $t: FAILED: no statistics (did it run?); log $log"
        else
            echo "fuzz $t: ok"
        fi
    } >"$BUILD/fuzz-$t.result"
}

status=0
running=0
for t in $TARGETS; do rm -f "$BUILD/fuzz-$t.result"; done
for t in $TARGETS; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
done
wait

touch "$RESULTS"
for t in $TARGETS; do
    r=$BUILD/fuzz-$t.result
    if [ ! -f "$r" ]; then
        echo "fuzz $t: FAILED (no result)"
        status=1
        continue
    fi
    sed -n 1p "$r"
    sed -n '3,$p' "$r" | grep -v "^fuzz $t: " >&2
    grep -q "^fuzz $t: ok" "$r" || status=1
    if [ "$RECORD" != 0 ]; then
        grep -v "^$t	" "$RESULTS" >"$RESULTS.tmp"
        sed -n 2p "$r" >>"$RESULTS.tmp"
        mv "$RESULTS.tmp" "$RESULTS"
    fi
done
for t in $TARGETS; do
    grep -h "^fuzz $t: " "$BUILD/fuzz-$t.result" 2>/dev/null
done

# docs/fuzzing.md: the table between the markers, from results.tsv.
if [ "$RECORD" != 0 ] && [ -f "$DOC" ]; then
    /usr/bin/python3 - "$RESULTS" "$DOC" "$ALL_TARGETS" <<'PY'
import sys
results, doc, order = sys.argv[1], sys.argv[2], sys.argv[3].split()
rows = {}
for line in open(results):
    f = line.rstrip("\n").split("\t")
    if len(f) == 8:
        rows[f[0]] = f
table = ["| target | date | seconds | executions | exec/s | edges | crashes this run | regress-* inputs kept (fixed findings) |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
for t in order:
    if t in rows:
        r = rows[t]
        table.append(f"| {r[0]} | {r[1]} | {r[2]} | {int(r[3]):,} | {r[4]} | {r[5]} | {r[6]} | {r[7]} |")
text = open(doc).read()
begin, end = "<!-- fuzz-table:begin -->", "<!-- fuzz-table:end -->"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(doc, "w").write(head + begin + "\n" + "\n".join(table) + "\n" + end + tail)
PY
fi
exit $status
