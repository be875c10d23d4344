# truth.sh -- a test guest's view of itself, in sections between
# "=== BEGIN x ===" and "=== END x ===" (parsed by tests/guest/harness.py's
# parse_truth). Sourced by the QEMU guests' init (tests/guest/init.sh) and the
# Xen domUs' (tests/xen/domu-init.sh), so both truths come from one script.
#
# xa_truth MARKER_PID KALLSYMS_EVERY [full]
#   KALLSYMS_EVERY: besides the named symbols, every Nth line of /proc/kallsyms;
#   full: also every /proc/PID/stat and ps (large: the QEMU guests' serial
#   line takes it, a Xen console is slow).
xa_truth() {
    echo "=== BEGIN uname ==="; uname -r; echo "=== END uname ==="
    echo "=== BEGIN version ==="; cat /proc/version; echo "=== END version ==="
    echo "=== BEGIN cmdline ==="; cat /proc/cmdline; echo "=== END cmdline ==="
    echo "=== BEGIN procs ==="
    # pid ppid uid gid comm  (authoritative; real uid/gid, thread-group leaders)
    awk 'BEGIN { getline s < "/proc/self/stat"; split(s, a, " "); self = a[1] }
         FNR == 1 { if (pid != "" && pid != self) print pid, ppid, uid, gid, name; pid = "" }
         /^Name:/ { sub(/^Name:[ \t]*/, ""); name = $0 }
         $1 == "Pid:" { pid = $2 } $1 == "PPid:" { ppid = $2 }
         $1 == "Uid:" { uid = $2 } $1 == "Gid:" { gid = $2 }
         END { if (pid != "" && pid != self) print pid, ppid, uid, gid, name }' /proc/[0-9]*/status
    echo "=== END procs ==="
    if [ "$3" = full ]; then
        echo "=== BEGIN stat ==="; cat /proc/[0-9]*/stat 2>/dev/null; echo; echo "=== END stat ==="
        echo "=== BEGIN ps ==="; ps -o pid,ppid,user,group,comm; echo "=== END ps ==="
    fi
    echo "=== BEGIN modules ==="; cat /proc/modules; echo "=== END modules ==="
    echo "=== BEGIN kallsyms ==="
    awk -v every="$2" 'BEGIN { n = split("init_task linux_banner init_top_pgt swapper_pg_dir _stext _text _etext modules __start_BTF __stop_BTF phys_base kallsyms_num_syms page_offset_base vmemmap_base vmalloc_base", a, " ")
                 for (i = 1; i <= n; i++) want[a[i]] = 1 }
         ($3 in want) && $4 == "" { print; next }
         { if (++k % every == 0) print }' /proc/kallsyms
    echo "=== END kallsyms ==="
    echo "=== BEGIN markers ==="; grep '^XA-MARKER' /tmp/workload.out; echo "=== END markers ==="
    echo "=== BEGIN maps ==="; echo "pid $1"; cat "/proc/$1/maps"; echo "=== END maps ==="
    echo "=== BEGIN iomem ==="; cat /proc/iomem; echo "=== END iomem ==="
    echo "=== BEGIN meminfo ==="; cat /proc/meminfo; echo "=== END meminfo ==="
}

# xa_truth_procview PID...: what /proc says inside each process -- btime, then
# per pid: cmdline and environ (hex), status ids, groups and capabilities,
# stat (starttime), the exe/cwd/root links and each thread's stat.
xa_truth_procview() {
    echo "=== BEGIN procview ==="
    grep '^btime ' /proc/stat
    for p in "$@"; do
        echo "pid $p"
        echo "cmdline $(od -An -tx1 -v /proc/$p/cmdline | tr -d ' \n')"
        echo "environ $(od -An -tx1 -v /proc/$p/environ | tr -d ' \n')"
        grep -E '^(Uid|Gid|Groups|CapPrm|CapEff):' /proc/$p/status
        echo "stat $(cat /proc/$p/stat)"
        echo "exe $(readlink /proc/$p/exe)"
        echo "cwd $(readlink /proc/$p/cwd)"
        echo "root $(readlink /proc/$p/root)"
        for t in /proc/$p/task/*; do echo "task $(cat $t/stat)"; done
    done
    echo "=== END procview ==="
}

# xa_truth_files [PID...]: every process's open files and the mountinfo of
# each PID, from /xa/workload fdtruth (one line each, guest bytes in hex;
# parsed by harness.py parse_files); PIDs default to 1 and the xa-files
# process (its own mount namespace).
xa_truth_files() {
    [ $# -gt 0 ] || set -- 1 $(sed -n 's/^XA-FILES pid=\([0-9]*\).*/\1/p' /tmp/files.out)
    echo "=== BEGIN files ==="
    /xa/workload fdtruth "$@"
    echo "=== END files ==="
}

# xa_truth_net: the guest's sockets (/proc/net/*), which process holds which
# socket (ls -l of every fd directory, socket:[INODE] links) and the kernel log
# as /dev/kmsg gives it ("prio,seq,usec,flags;text", workload.c "kmsg").
xa_truth_net() {
    for f in tcp tcp6 udp udp6 unix raw raw6 packet; do
        echo "=== BEGIN net_$f ==="; cat /proc/net/$f; echo "=== END net_$f ==="
    done
    echo "=== BEGIN net_fds ==="
    ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -e '^/proc' -e 'socket:'
    echo "=== END net_fds ==="
    echo "=== BEGIN kmsg ==="; /xa/workload kmsg; echo "=== END kmsg ==="
}

# xa_truth_netns: pid 1's network namespace ("init net:[N]") and the
# workload's second one (workload.c netns_run: "pid P net:[M]"), with that
# one's /proc/P/net/{tcp,unix} (/proc/net shows the reader's namespace).
xa_truth_netns() {
    p=$(sed -n 's/^XA-NETNS pid=\([0-9]*\).*/\1/p' /tmp/netns.out 2>/dev/null | head -n 1)
    echo "=== BEGIN netns ==="
    echo "init $(readlink /proc/1/ns/net)"
    [ -n "$p" ] && echo "pid $p $(readlink /proc/$p/ns/net)"
    echo "=== END netns ==="
    [ -n "$p" ] || return 0
    for f in tcp unix; do
        echo "=== BEGIN netns_$f ==="; cat /proc/$p/net/$f; echo "=== END netns_$f ==="
    done
}

# xa_truth_netns_ehash: the namespace of workload.c netns-ehash ("pid P
# net:[M]"), whether the sysctls were there and its established hash's size
# as it sees it ("sysctl tcp=0|1 udp=0|1 ehash_entries=N", N negative when
# shared with the first namespace, "none" before 6.1), then its
# /proc/P/net/{tcp,tcp6,udp,udp6}.
xa_truth_netns_ehash() {
    p=$(sed -n 's/^XA-NETNS-EHASH pid=\([0-9]*\).*/\1/p' /tmp/netns-ehash.out 2>/dev/null | head -n 1)
    echo "=== BEGIN netns_ehash ==="
    if [ -n "$p" ]; then
        echo "pid $p $(readlink /proc/$p/ns/net)"
        sed -n 's/^XA-NETNS-EHASH pid=[0-9]* tcp_sysctl=/sysctl tcp=/p' /tmp/netns-ehash.out |
            sed 's/ udp_sysctl=/ udp=/'
    fi
    echo "=== END netns_ehash ==="
    [ -n "$p" ] || return 0
    for f in tcp tcp6 udp udp6; do
        echo "=== BEGIN netns_ehash_$f ==="; cat /proc/$p/net/$f; echo "=== END netns_ehash_$f ==="
    done
}
