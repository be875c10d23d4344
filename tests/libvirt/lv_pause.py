"""Child process for test_libvirt.py: the Python bindings on a libvirt target.

    lv_pause.py TARGET           (steps below)
    lv_pause.py --open TARGET    open and close; print "open ok METHOD" or
                                 "open_error CODE MESSAGE"

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


def main():
    if sys.argv[1] == "--open":
        return open_only(sys.argv[2])
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
