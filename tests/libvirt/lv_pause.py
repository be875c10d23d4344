"""Child process for test_libvirt.py: the Python bindings on a libvirt target.

    lv_pause.py TARGET           (steps below)
    lv_pause.py --open TARGET    open and close; print "open ok METHOD" or
                                 "open_error CODE MESSAGE"
    lv_pause.py --until-gone TARGET
                                 print "ready", then ask for registers until
                                 that fails ("reading" after the first answer) (the test destroys the domain):
                                 "gone CODE MESSAGE", then "read_after CODE"
                                 for a physical read (0: it worked)

Steps, each started by a line on stdin and answered on stdout:
  1. open, pause, print "paused" and the registers of each vCPU as
     "regs CPU rip cr3 cr4 efer" (hex);
  2. resume, print "resumed";
  3. pause + resume again (the test has suspended the domain itself in
     between: that pause must stay), print "done".
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import xenaccess  # noqa: E402


def step():
    sys.stdin.readline()


def open_only(target):
    try:
        vm = xenaccess.VM(target, no_os=True)
    except xenaccess.XenaccessError as e:
        print("open_error %d %s" % (e.code, e.message), flush=True)
        return
    print("open ok %s" % vm.info.access_method, flush=True)
    vm.close()


def until_gone(target):
    import time
    vm = xenaccess.VM(target, no_os=True)
    print("ready", flush=True)
    deadline = time.time() + 120
    calls = 0
    while time.time() < deadline:
        try:
            vm.regs(0)
        except xenaccess.XenaccessError as e:
            print("gone %d %s" % (e.code, e.message), flush=True)
            break
        calls += 1
        if calls == 1:
            print("reading", flush=True)  # the test ends the domain from now on
        time.sleep(0.05)
    try:
        vm.read_pa(0x100000, 8)
        print("read_after 0", flush=True)
    except xenaccess.XenaccessError as e:
        print("read_after %d" % e.code, flush=True)
    vm.close()


def main():
    if sys.argv[1] == "--open":
        return open_only(sys.argv[2])
    if sys.argv[1] == "--until-gone":
        return until_gone(sys.argv[2])
    vm = xenaccess.VM(sys.argv[1], no_os=True)
    step()
    vm.pause()
    print("paused", flush=True)
    for cpu in range(vm.info.vcpus):
        r = vm.regs(cpu)
        print("regs %d %x %x %x %x" % (cpu, r["rip"], r["cr3"], r["cr4"], r["efer"]), flush=True)
    print("regs-end", flush=True)
    step()
    vm.resume()
    print("resumed", flush=True)
    step()
    vm.pause()
    vm.resume()
    print("done", flush=True)
    vm.close()


if __name__ == "__main__":
    main()
