#!/bin/busybox sh
# /init of the xenaccess test-guest initramfs (busybox).  See README.md.
# ttyS0: kernel console and this script's log.  ttyS1: ground truth between
# "=== BEGIN x ===" / "=== END x ===" markers, then "XA-READY", then a shell.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin /root
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo 0 > /proc/sys/kernel/kptr_restrict
echo 0 > /proc/sys/kernel/dmesg_restrict
hostname xa-guest

NPROC=300
for a in $(cat /proc/cmdline); do
    case "$a" in
        xa_nproc=*) NPROC="${a#xa_nproc=}" ;;
    esac
done

KVER=$(uname -r)
echo "xa-init: kernel $KVER, loading modules"
while read -r m; do
    [ -n "$m" ] || continue
    insmod "/lib/modules/$KVER/$m" || echo "XA-WARN: insmod $m failed"
done < /xa/modules.list

echo "xa-init: starting workload ($NPROC processes)"
/xa/workload "$NPROC" > /tmp/workload.out 2>&1 &
i=0
while ! grep -q XA-WORKLOAD-READY /tmp/workload.out; do
    i=$((i + 1))
    if [ $i -gt 1200 ]; then echo "XA-WARN: workload not ready"; break; fi
    sleep 0.1
done
cat /tmp/workload.out

MARKER_PID=$(sed -n 's/^XA-MARKER pid=\([0-9]*\) .*/\1/p' /tmp/workload.out | head -n 1)
WL_PID=$(sed -n 's/^XA-WORKLOAD-READY .*pid=\([0-9]*\).*/\1/p' /tmp/workload.out | head -n 1)

# A multi-threaded process with a long command line, a large environment and
# distinct credentials (see workload.c).
/xa/workload procview > /tmp/procview.out 2>&1 &
i=0
while ! grep -q XA-PROCVIEW /tmp/procview.out; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "XA-WARN: procview not ready"; break; fi
    sleep 0.1
done
cat /tmp/procview.out
PV_PID=$(sed -n 's/^XA-PROCVIEW pid=\([0-9]*\).*/\1/p' /tmp/procview.out | head -n 1)

# Open files of every kind, one in a mount namespace of its own (workload.c
# files_run); the harness reads every process's files at dump time
# (truth.sh xa_truth_files).
/xa/workload files > /tmp/files.out 2>&1 &
i=0
while ! grep -q XA-FILES /tmp/files.out; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "XA-WARN: files not ready"; break; fi
    sleep 0.1
done
cat /tmp/files.out

# Sockets of every kind, one the kernel holds alone (workload.c "net"), and a
# kernel log line from user space (level and facility: user.notice).
/xa/workload net > /tmp/net.out 2>&1 &
i=0
while ! grep -q XA-NET /tmp/net.out; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "XA-WARN: net not ready"; break; fi
    sleep 0.1
done
cat /tmp/net.out
echo "<13>xa-init: a line from user space, escaped: tab	end" > /dev/kmsg

# Sockets in a second network namespace (workload.c "netns"; truth.sh
# xa_truth_netns).
/xa/workload netns > /tmp/netns.out 2>&1 &
NETNS_PID=$!
i=0
while ! grep -q XA-NETNS /tmp/netns.out; do
    i=$((i + 1))
    # a kernel without network namespaces: it died saying why
    if [ $i -gt 600 ] || ! kill -0 $NETNS_PID 2>/dev/null; then
        echo "XA-WARN: netns not ready"; break
    fi
    sleep 0.1
done
cat /tmp/netns.out

# A network namespace with TCP/UDP hash tables of its own (workload.c
# "netns-ehash"; truth.sh xa_truth_netns_ehash).
/xa/workload netns-ehash > /tmp/netns-ehash.out 2>&1 &
EHASH_PID=$!
i=0
while ! grep -q XA-NETNS-EHASH /tmp/netns-ehash.out; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $EHASH_PID 2>/dev/null; then
        echo "XA-WARN: netns-ehash not ready"; break
    fi
    sleep 0.1
done
cat /tmp/netns-ehash.out

# Configure ttyS1 as a transparent byte pipe (no echo, no CR/LF mangling).
stty -F /dev/ttyS1 raw -echo

T=/tmp/truth.txt
. /xa/truth.sh
{
    xa_truth "$MARKER_PID" 97 full
    xa_truth_procview 1 2 "$MARKER_PID" "$WL_PID" "$PV_PID"
} > $T 2>&1
xa_truth_net >> $T 2>&1
xa_truth_netns >> $T 2>&1
xa_truth_netns_ehash >> $T 2>&1
echo "xa-init: truth is $(wc -c < $T) bytes"
cat $T > /dev/ttyS1
echo "XA-READY" > /dev/ttyS1
echo "XA-READY"

# Command server on ttyS1.  The host sends one line per command:
#   XARUN <tag> <base64 of the command>     -> runs it with sh -c, prints
#   __XA_B_<tag>__\n<output>\n__XA_E_<tag>__ <rc>\n
#   XAPING <n>                              -> prints __XA_PING_<n>__
# Each command runs in its own sh (no state is kept between commands), with
# stdin from /dev/null and stderr merged into stdout.
#
# The server is not PID 1: the orphans that commands leave behind (`cmd &`)
# are re-parented to PID 1, and their SIGCHLD cuts PID 1's reads and writes
# short; on ttyS1 that lost a command or a newline now and then.  ttyS1 also
# stays open for good: a serial tty drops what arrives while it is closed.
serve() {
    exec 3</dev/ttyS1 4>/dev/ttyS1
    while :; do
        while IFS= read -r line <&3; do
            case "$line" in
                XARUN\ *)
                    set -- $line
                    cmd=$(echo "$3" | base64 -d)
                    printf '__XA_B_%s__\n' "$2"
                    sh -c "$cmd" < /dev/null 2>&1
                    printf '\n__XA_E_%s__ %d\n' "$2" $?
                    ;;
                XAPING\ *)
                    set -- $line
                    printf '__XA_PING_%s__\n' "$2"
                    ;;
            esac
        done >&4 2>&1
        echo "xa-init: command loop restarted" > /dev/console
        sleep 0.1
    done
}
serve &
# PID 1 only reaps orphans from here on.
while :; do wait; sleep 1; done
