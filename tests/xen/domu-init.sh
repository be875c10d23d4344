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

# A multi-threaded process with a long command line and environment (the
# process views: tests/xen/test_xen.py test_procview_matches_domu).
/xa/workload procview > /tmp/procview.out 2>&1 &
PV_PID=""
i=0
while [ -z "$PV_PID" ] && [ $i -lt 120 ]; do
    PV_PID=$(sed -n 's/^XA-PROCVIEW pid=\([0-9]*\).*/\1/p' /tmp/procview.out | head -n 1)
    i=$((i + 1))
    [ -n "$PV_PID" ] || sleep 0.5
done

# Open files of every kind (one in a mount namespace of its own) and
# sockets of every kind (workload.c files_run, net_run), as the QEMU guests
# have them: xa-files, xa-mounts and xa-net compare with them.
/xa/workload files > /tmp/files.out 2>&1 &
/xa/workload net > /tmp/net.out 2>&1 &
FILES_PID=""
i=0
while { [ -z "$FILES_PID" ] || ! grep -q XA-NET /tmp/net.out; } && [ $i -lt 120 ]; do
    FILES_PID=$(sed -n 's/^XA-FILES pid=\([0-9]*\).*/\1/p' /tmp/files.out | head -n 1)
    i=$((i + 1))
    sleep 0.5
done

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
( xa_truth_files 1 $FILES_PID; xa_truth_net; xa_truth_netns ) > $T.views 2>&1 &
wait $!
echo "XA-TRUTH-BEGIN"
cat $T $T.views
echo "XA-TRUTH-END"
echo "XA-DOMU-READY"
while :; do wait; sleep 3600; done
