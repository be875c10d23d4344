#!/bin/sh
# Runs in the test bed's dom0: starts the PV and PVH domUs, waits for their
# workloads, runs the xenaccess tools on xen:NAME targets and prints every
# result as a blob (gzip + base64, so a lost character fails the gzip CRC
# instead of changing a result), twice: on a loaded host the console path
# drops a character now and then, and the parser keeps the first whole copy:
#   XA-BLOB-BEGIN <name> rc=<exit code> secs=<wall seconds> copy=<1 or 2>
#   <base64 lines>
#   XA-BLOB-END <name>
# tests/xen/test_xen.py parses them from the serial log.
DOMS=${XA_DOMS:-"xa-pv xa-pvh"}
export XA_BACKEND_DIR=/xa/backends  # the Xen backend module (xenbed.py puts it there)
OUT=/tmp/out
mkdir -p $OUT
now() { cut -d' ' -f1 /proc/uptime; }

blob() { # name rc secs file
    # Encode first and check the encoding decodes: gzip or base64 itself
    # segfaults now and then under Xen on TCG (CI printed a blob whose text
    # was the shell's "Segmentation fault"), so a bad encoding is made again.
    enc=$OUT/.blob.b64
    enc_try=1
    while :; do
        rm -f $enc.gz $enc
        gzip -c "$4" > $enc.gz 2>/dev/null && base64 $enc.gz > $enc 2>/dev/null &&
            base64 -d $enc 2>/dev/null | cmp -s - $enc.gz && gzip -t $enc.gz 2>/dev/null && break
        if [ $enc_try -ge 5 ]; then
            echo "XA-WARN: blob $1 could not be encoded"
            break
        fi
        enc_try=$((enc_try + 1))
    done
    for copy in 1 2; do
        echo "XA-BLOB-BEGIN $1 rc=$2 secs=$3 copy=$copy"
        cat $enc
        echo "XA-BLOB-END $1"
    done
}

run() { # name command...: run, time, emit stdout+stderr as a blob
    name=$1; shift
    t0=$(now)
    "$@" > $OUT/$name 2> $OUT/$name.err
    rc=$?
    if [ $rc -ge 128 ]; then
        # Killed by a signal.  Under Xen on TCG programs die now and then
        # without a fault of theirs (the domUs see it too).  The kernel's
        # line about it goes on the log (blob "signals", which test_xen.py
        # reports), and the run is tried once more: a crash of ours comes
        # again and fails the test.
        { echo "$name rc=$rc"; dmesg | grep -iE "segfault|general protection|trap" | tail -n 3; } >> $OUT/signals
        "$@" > $OUT/$name 2> $OUT/$name.err
        rc=$?
    fi
    t1=$(now)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    cat $OUT/$name.err >> $OUT/$name
    blob "$name" "$rc" "$secs" $OUT/$name
}

# xl create, and again (up to 3 times) when it fails: xl's own helpers
# segfault now and then in dom0 under Xen on TCG (CI: "domain monitoring
# daemonizing child died due to fatal signal"); none of ours runs there.
create() { # name: creates it, prints the blob create-<name>, returns xl's exit code
    t0=$(now)
    : > $OUT/create-$1
    for create_try in 1 2 3; do
        # bounded: once xl create hung here after such a crash
        timeout -k 5 120 xl create /xa/$1.cfg >> $OUT/create-$1 2>&1
        rc=$?
        [ $rc -eq 0 ] && break
        echo "XA-CREATE-RETRY $1 attempt=$create_try rc=$rc"
        timeout -k 5 60 xl destroy $1 > /dev/null 2>&1
        sleep 2
        # An xl create killed by its timeout may have left a domain that
        # booted and printed its truth before the destroy: that console log
        # must not stand for the next domain's (wait_ready would take its
        # XA-DOMU-READY, and the tools would read a domain still booting).
        f=/var/log/xen/console/guest-$1.create-failed-$create_try
        mv /var/log/xen/console/guest-$1.log $f 2>/dev/null && blob "console-$1.create-failed-$create_try" 0 0 $f
    done
    blob "create-$1" $rc "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')" $OUT/create-$1
    return $rc
}

# A domU that cannot be created leaves nothing to compare: stop at once,
# and xenbed.py boots the bed again (platform_failed).
UP=""
for d in $DOMS; do
    create $d || exit 1
    UP="$UP $d"
done
DOMS=$UP

# Wait for each domU's truth (the workload is up and idle then).  Under Xen
# on TCG a program inside a PV domU segfaults often (not ours: none runs
# there), which leaves its truth missing or wrong: such a domU is destroyed
# and created again, up to XA_DOMU_TRIES times in all.
wait_ready() { # name: 0 ready, 1 a program crashed, 2 timed out
    log=/var/log/xen/console/guest-$1.log
    i=0
    while ! grep -q XA-DOMU-READY $log 2>/dev/null; do
        grep -q "Segmentation fault\|XA-DOMU-STUCK" $log 2>/dev/null && return 1
        i=$((i + 1))
        [ $i -gt ${XA_DOMU_TIMEOUT:-120} ] && return 2
        [ $((i % 30)) -eq 0 ] && echo "XA-WAIT $1 $(tail -n 1 $log 2>/dev/null | cut -c1-100)"
        sleep 1
    done
    grep -q "Segmentation fault\|XA-DOMU-STUCK" $log && return 1
    return 0
}
for d in $DOMS; do
    try=1
    while :; do
        wait_ready $d
        why=$?
        [ $why -eq 0 ] && break
        if [ $try -ge ${XA_DOMU_TRIES:-5} ]; then
            echo "XA-WARN: $d not ready (reason $why)"
            break
        fi
        echo "XA-DOMU-RETRY $d try=$try reason=$why"
        timeout -k 5 60 xl destroy $d > /dev/null 2>&1
        # let xenconsoled see the domain go before its log is moved away
        sleep 2
        f=/var/log/xen/console/guest-$d.failed-$try
        mv /var/log/xen/console/guest-$d.log $f 2>/dev/null && blob "console-$d.failed-$try" 0 0 $f
        create $d || exit 1
        try=$((try + 1))
    done
    echo "XA-DOMU-UP $d $(now)"
done
xl list > $OUT/xl-list 2>&1; blob xl-list 0 0 $OUT/xl-list

for d in $DOMS; do
    log=/var/log/xen/console/guest-$d.log
    sed 's/\r$//' $log > $OUT/console-$d
    blob "console-$d" 0 0 $OUT/console-$d
    T=xen:$d
    run "$d.info" xa-info $T --json
    run "$d.ps" xa-ps $T --json
    id=$(xl domid $d 2>/dev/null)
    run "$d.ps-byid" xa-ps xen:$id --json
    run "$d.threads" xa-ps $T --json --threads
    run "$d.modules" xa-modules $T --json
    run "$d.sym-banner" xa-sym $T linux_banner --json
    run "$d.read-banner" xa-read $T --sym linux_banner --len 64 --raw
    # The backend conformance cases (tests/conformance) with the domU's own
    # facts: its banner's address and text.
    banner=$(sed -n '/^=== BEGIN kallsyms ===/,/^=== END kallsyms ===/s/^\([0-9a-f]*\) [A-Za-z] linux_banner$/\1/p' $OUT/console-$d | head -n 1)
    version=$(sed -n '/^=== BEGIN version ===/{n;p;q}' $OUT/console-$d)
    run "$d.conformance" conformance $T --backend xen --vcpus 1 --pause yes --kstr "0x$banner=$version"
    mpid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' $OUT/console-$d | head -n 1)
    run "$d.maps" xa-maps $T --pid "$mpid" --json
    # The guest views against the domU's own (its truth's files, net_* and
    # kmsg sections): every open file, the mounts of the workload's process
    # with a mount namespace of its own, every socket, the kernel log.
    fpid=$(sed -n 's/^mountinfo \([0-9]*\) .*/\1/p' $OUT/console-$d | grep -vx 1 | head -n 1)
    run "$d.files" xa-files $T --json
    run "$d.mounts" xa-mounts $T --json --pid "$fpid"
    run "$d.net" xa-net $T --json
    run "$d.dmesg" xa-dmesg $T --json
    n=0
    grep '^XA-MARKER ' $OUT/console-$d | while read -r _ p v s _; do
        pid=${p#pid=}; va=${v#va=}; str=${s#str=}
        run "$d.marker$n" xa-read $T --va "$va" --pid "$pid" --len ${#str} --raw
        n=$((n + 1))
    done
    # The paper's figures live, then on a raw dump of the same guest taken
    # through the backend (paused), plus xa-ps on that dump.
    set -- $(grep '^XA-MARKER ' $OUT/console-$d | head -n 1)
    mp=${2#pid=}; mva=${3#va=}
    run "$d.check" xa-xen-check $T --pid "$mp" --va "$mva" --dump /tmp/$d.raw --iters ${XA_ITERS:-200}
    run "$d.dump-check" xa-xen-check file:/tmp/$d.raw --pid "$mp" --va "$mva" --iters ${XA_ITERS:-200}
    run "$d.dump-ps" xa-ps file:/tmp/$d.raw --json
    rm -f /tmp/$d.raw
    # After the pauses above the domain must be running again (state r or b).
    xl list $d > $OUT/state-$d 2>&1; blob "state-$d" 0 0 $OUT/state-$d
done
touch $OUT/signals; blob signals 0 0 $OUT/signals
run "bad-domain" xa-ps xen:no-such-domain
run "dom0" xa-ps xen:0
