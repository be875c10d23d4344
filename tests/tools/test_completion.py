"""bash completion of the xa-* tools (tools/xa-completion.bash): options
(from each tool's --help), target prefixes and paths after a prefix. Each
case runs bash as the completion machinery would: COMP_LINE and COMP_POINT
set, the function called, COMPREPLY printed."""
import os
import shutil
import subprocess


from xatest import BUILD, ROOT, skip_or_fail

SCRIPT = os.path.join(ROOT, "tools", "xa-completion.bash")


def complete(line, cwd=None):
    if not shutil.which("bash"):
        skip_or_fail("no bash")
    tool = line.split()[0]
    script = f"""
        source {SCRIPT!r}
        PATH={os.path.join(BUILD, "tools")!r}:$PATH
        COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}
        COMP_WORDS=({tool}); COMP_CWORD=1
        complete -p {tool} >/dev/null || exit 9   # registered for this command
        _xa_complete
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, cwd=cwd, timeout=60)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.split("\n") if w]


def test_options_come_from_help():
    assert complete("xa-ps --js") == ["--json"]
    assert sorted(complete("xa-read file:x.img --p")) == ["--pa", "--pad", "--pid"]
    assert "--list" in complete("xa-sym file:x.img --")


def test_target_prefixes():
    assert sorted(complete("xa-ps ")) == ["file:", "libvirt:", "qemu:", "xen:"]
    assert complete("xa-maps q") == ["qemu:"]
    assert complete("xa-files q") == ["qemu:"]
    assert complete("xa-mounts file:x --p") == ["--pid"]
    assert sorted(complete("xa-disk-monitor ")) == ["image:", "tap:"]


def test_paths_after_a_prefix(tmp_path):
    (tmp_path / "guest.img").write_bytes(b"")
    (tmp_path / "guest.elf").write_bytes(b"")
    (tmp_path / "dumps").mkdir()
    # bash splits words at ':', so it replaces only what follows the colon.
    assert sorted(complete(f"xa-ps file:{tmp_path}/gu")) == \
        [f"{tmp_path}/guest.elf", f"{tmp_path}/guest.img"]
    assert complete(f"xa-info file:{tmp_path}/du") == [f"{tmp_path}/dumps/"]
    # Relative paths, and the value of --sysmap.
    assert complete("xa-ps file:guest.i", cwd=tmp_path) == ["guest.img"]
    assert complete(f"xa-ps file:x --sysmap {tmp_path}/guest.e") == [f"{tmp_path}/guest.elf"]
    # Numbers are not guessed.
    assert complete("xa-maps file:x --pid ") == []


def test_net_and_dmesg():
    assert complete("xa-dmesg --fo") == ["--follow"]
    assert complete("xa-net --js") == ["--json"]
    assert sorted(complete("xa-net ")) == ["file:", "libvirt:", "qemu:", "xen:"]
