#!/usr/bin/python3
"""The demo: boot the bundled demo guest (a Debian 6.1 kernel with a busybox
userland and a small workload, under QEMU TCG), then look at it from outside
with xenaccess while it runs, next to what the guest itself says."""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
from harness import Guest  # noqa: E402

BUILD = os.environ.get("XA_BUILD", os.path.join(ROOT, "build"))


def banner(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def tool(name, *args, check=True, show=True):
    cmd = [os.path.join(BUILD, "tools", name), *map(str, args)]
    print("$ " + " ".join([name, *map(str, args)]), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if show:
        sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if check and p.returncode != 0:
        sys.exit(f"demo: {name} failed")
    return p.stdout


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arch", choices=("amd64", "arm64", "i386"), default="amd64",
                    help="the guest's architecture (arm64: qemu-system-aarch64, virt; "
                         "i386: Debian's 686-pae kernel under qemu-system-i386)")
    arch = ap.parse_args().arch
    arm, i386 = arch == "arm64", arch == "i386"
    kw = {}
    if arm:
        subprocess.run(["sh", os.path.join(ROOT, "tests", "guest", "deps-arm64.sh")], check=True)
        from arm64 import Arm64Guest as guest_class
    elif i386:
        from harness import Guest32 as guest_class
        kw = {"arch": "i386pae"}
    else:
        guest_class = Guest
    banner("booting the demo guest (Debian 6.1 %s kernel, %s, QEMU TCG; %s)"
           % ({"arm64": "arm64", "i386": "686-pae"}.get(arch, "amd64"),
              "no BTF, no data symbols" if i386 else "KASLR on",
              "~40 s" if arm else "~15 s"))
    with guest_class("demo", nproc=40, mem_mb=512, **kw) as g:
        target = "qemu:" + g.monitor_path
        print(f"guest running; QMP socket for monitors {g.monitor_path}, RAM shared in {g.ram_path}")

        banner("what the guest says about itself (its own ps, over its serial console)")
        own = g.run("ps -o pid,ppid,user,comm")
        print(own.rstrip())

        banner("what xenaccess sees from outside: no System.map, no profile")
        tool("xa-info", target)
        out = tool("xa-ps", target)

        want = {int(line.split()[0]) for line in own.splitlines()[1:] if line.split()}
        got = {int(line.split()[0]) for line in out.splitlines()[1:] if line.split()}
        # The ps that printed the guest's list has exited since; pid 0 (swapper) is not in /proc.
        missing = sorted(want - got)
        print(f"\n{len(want & got)} of the guest's {len(want)} processes seen from outside"
              + (f" (not seen: {missing}, the ps that printed the list)" if missing else ""))

        banner("a process started in the guest now shows up (xa-ps --watch)")
        watch = subprocess.Popen([os.path.join(BUILD, "tools", "xa-ps"), target, "--watch", "1",
                                  "--count", "9"], stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        g.run("sleep 3 &")
        lines = watch.communicate(timeout=120)[0].splitlines()
        for line in lines:
            if line.startswith(("START", "EXIT")):
                print(line)

        if i386:
            # 686 kernels list text symbols only: modules and the kernel log
            # are found by their shape in memory
            banner("its modules and the end of its kernel log, found in its memory")
            tool("xa-modules", target)
            log = tool("xa-dmesg", target, show=False).splitlines()
            print("\n".join(log[:1] + ["  ..."] + log[-5:]))
        else:
            banner("kernel memory read from outside: the banner through its virtual address")
            tool("xa-read", target, "--sym", "linux_banner", "--len", 96)

    if arch == "amd64":
        disk_demo()


def disk_demo():
    """File events from a guest's disk (issue 5), next to its process list:
    a second short boot with an ext4 disk served through the tap."""
    import shutil
    import tempfile
    bindir = os.path.join(BUILD, "tools")
    if not os.path.exists(os.path.join(bindir, "xa-disk-monitor")):
        print("\n(disk monitoring not built: skipping the file-events demo)")
        return
    banner("file events from a guest's disk, seen from outside (xa-disk-tap + xa-disk-monitor)")
    work = tempfile.mkdtemp(prefix="xa-demo-disk-")
    img, sock = os.path.join(work, "disk.img"), os.path.join(work, "nbd.sock")
    subprocess.run(["mkfs.ext4", "-q", "-F", img, "64M"], check=True)
    print(f"$ xa-disk-tap disk.img --socket {sock} --background")
    out = subprocess.run([os.path.join(bindir, "xa-disk-tap"), img, "--socket", sock,
                          "--background"], check=True, capture_output=True, text=True).stdout
    info = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    print("QEMU: " + info["QEMU"])
    evlog = os.path.join(work, "events.txt")
    print(f"$ xa-disk-monitor tap:{info['EVENTS']}")
    mon = subprocess.Popen([os.path.join(bindir, "xa-disk-monitor"), "tap:" + info["EVENTS"]],
                           stdout=open(evlog, "w"), stderr=subprocess.DEVNULL)
    try:
        with Guest("demo-disk", nproc=10, mem_mb=384,
                   extra_qemu_args=info["QEMU"].split()) as g:
            g.run("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && mkdir /mnt/logs && sync")
            # a process that writes files, so that both views show it
            pid = g.run("sh -c 'for i in 1 2 3; do date >> /mnt/logs/app.log; sync; sleep 1; "
                        "done; mv /mnt/logs/app.log /mnt/logs/app.log.1; echo k > /mnt/secret; "
                        "chmod 600 /mnt/secret; sync; sleep 4' >/dev/null 2>&1 & echo $!").strip()
            time.sleep(1)
            print(f"\nthe process list from outside while the writer (pid {pid}) runs:")
            print("$ xa-ps qemu:" + g.monitor_path)
            ps = subprocess.run([os.path.join(BUILD, "tools", "xa-ps"), "qemu:" + g.monitor_path],
                                capture_output=True, text=True).stdout.splitlines()
            mine = [line for line in ps[1:] if pid in line.split()[:2]]
            print("\n".join(ps[:1] + mine))
            print(f"  ... and {len(ps) - 1 - len(mine)} other processes")
            time.sleep(5)
        time.sleep(1)
        print("\nthe file events the monitor printed meanwhile:")
        with open(evlog) as f:
            print(f.read().rstrip())
    finally:
        mon.kill()
        mon.wait()
        try:
            os.kill(int(info["PID"]), 15)
        except (ProcessLookupError, ValueError):
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
