#!/bin/busybox sh
# /init of the Xen test domUs (PV and PVH; busybox). Runs the workload of
# tests/guest and prints the domain's own view of itself on its console
# (hvc0, which dom0's xenconsoled logs) between XA-TRUTH-BEGIN and
# XA-TRUTH-END, from tests/guest/truth.sh as the QEMU guests do, then idles.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin /root
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo 0 > /proc/sys/kernel/kptr_restrict
echo 0 > /proc/sys/kernel/dmesg_restrict

NPROC=60
for a in $(cat /proc/cmdline); do
    case "$a" in xa_nproc=*) NPROC="${a#xa_nproc=}" ;; esac
done
KVER=$(uname -r)
while read -r m; do
    [ -n "$m" ] && { insmod "/lib/modules/$KVER/$m" || echo "XA-WARN: insmod $m failed"; }
done < /xa/modules.list

echo "xa-domu: starting the workload ($NPROC processes)"
/xa/workload "$NPROC" > /tmp/workload.out 2>&1 &
i=0
while ! grep -q XA-WORKLOAD-READY /tmp/workload.out; do
    # a workload process that crashed (it happens under Xen on TCG) leaves the
    # rest waiting for it for ever: say so, and dom0 creates this domU again
    if [ $i -gt 120 ]; then
        echo "XA-DOMU-STUCK: workload not ready after 60 s; $(ls -d /proc/[0-9]* | wc -l) processes"
        tail -n 5 /tmp/workload.out
        grep -l "^State:.*[DZ]" /proc/[0-9]*/status 2>/dev/null | head -n 5
        break
    fi
    i=$((i + 1))
    sleep 0.5
done
# The marker process's lines can come after the workload's READY line; a
# program can also crash now and then under Xen on TCG: ask again.
MARKER_PID=""
i=0
while [ -z "$MARKER_PID" ] && [ $i -lt 60 ]; do
    MARKER_PID=$(sed -n 's/^XA-MARKER pid=\([0-9]*\) .*/\1/p' /tmp/workload.out | head -n 1)
    i=$((i + 1))
    [ -n "$MARKER_PID" ] || sleep 0.5
done

# start_part KIND LINE: run "/xa/workload KIND" into /tmp/KIND.out and wait
# until it prints LINE (its pid line). Programs crash now and then under Xen
# on TCG; a part that died before its line, or is silent for 30 s, is
# started again (3 tries), and the console says so.
start_part() {
    kind=$1 line=$2 try=1
    while [ $try -le 3 ]; do
        /xa/workload "$kind" > "/tmp/$kind.out" 2>&1 &
        part=$! i=0
        while [ $i -lt 60 ]; do
            grep -q "^$line" "/tmp/$kind.out" && return 0
            kill -0 "$part" 2>/dev/null || break
            i=$((i + 1))
            sleep 0.5
        done
        echo "XA-PART-RETRY $kind try=$try: $(tail -n 2 /tmp/$kind.out | tr '\n' ' ')"
        kill "$part" 2>/dev/null
        try=$((try + 1))
    done
    echo "XA-WARN: workload $kind never came up"
}

# A multi-threaded process with a long command line and environment (the
# process views: tests/xen/test_xen.py test_procview_matches_domu).
start_part procview "XA-PROCVIEW pid="
PV_PID=$(sed -n 's/^XA-PROCVIEW pid=\([0-9]*\).*/\1/p' /tmp/procview.out | head -n 1)

# Open files of every kind (one in a mount namespace of its own) and
# sockets of every kind (workload.c files_run, net_run), as the QEMU guests
# have them: xa-files, xa-mounts and xa-net compare with them.
start_part files "XA-FILES pid="
start_part net "XA-NET pid="
FILES_PID=$(sed -n 's/^XA-FILES pid=\([0-9]*\).*/\1/p' /tmp/files.out | head -n 1)

# The idler is started before the truth is taken, so it is in the truth.
sleep 2147483647 &

T=/tmp/truth.txt
. /xa/truth.sh
{
    xa_truth "$MARKER_PID" 499
    xa_truth_procview 1 "$MARKER_PID" $PV_PID
} > $T 2>&1
# Files, mounts, sockets and the kernel log from a child: this shell's own
# fds (redirected, with saved copies, while it runs a redirected command)
# are then as they stay.
# The tools that print it can fail under Xen on TCG as the workload can (one
# run listed every fd directory but none of their entries): what the tests
# need is checked, and taken again if missing (3 tries).
try=1
while :; do
    ( xa_truth_files 1 $FILES_PID; xa_truth_net; xa_truth_netns ) > $T.views 2>&1 &
    wait $!
    links=$(grep -c 'socket:\[' $T.views)
    grep -q '^=== END netns ===' $T.views && [ "$links" -ge 10 ] && break
    if [ $try -ge 3 ]; then
        echo "XA-WARN: the views truth is incomplete ($links socket links)"
        break
    fi
    echo "XA-TRUTH-RETRY views try=$try ($links socket links)"
    try=$((try + 1))
done
echo "XA-TRUTH-BEGIN"
cat $T $T.views
echo "XA-TRUTH-END"
echo "XA-DOMU-READY"
while :; do wait; sleep 3600; done
