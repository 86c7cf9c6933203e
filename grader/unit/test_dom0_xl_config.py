"""Dom0's reader of xl.cfg(5) domain configs, on the host: what it takes, and what it refuses.

guests/dom0/xl_config.c is compiled for the host with ASan/UBSan into a tool that
prints every field of a config (or the error). The expected fields and messages
are written here from xl.cfg(5) and the kit's rules (guests/dom0/xl_config.h),
not taken from a run.
"""
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostlib import build_dom0_tool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    return build_dom0_tool(tmp_path_factory.mktemp("xl_config_tool"), "xl_config_tool", ['grader/unit/host/xl_config_tool.c', 'guests/dom0/xl_config.c'])


def parse(tool, tmp_path, text):
    cfg = tmp_path / "vm.cfg"
    cfg.write_bytes(text.encode() if isinstance(text, str) else text)
    proc = subprocess.run([str(tool), str(cfg)], capture_output=True, text=True, timeout=30)
    assert proc.returncode in (0, 1), proc.stderr
    if proc.returncode:
        return proc.stdout.strip().removeprefix("error: ")
    fields, disks = {}, []
    for line in proc.stdout.splitlines():
        key, value = line.split("=", 1)
        if key == "disk":
            disks.append(value)
        else:
            fields[key] = value
    return fields | {"disks": disks}


def test_xen_defaults(tool, tmp_path):
    c = parse(tool, tmp_path, 'name = "tiny"\nkernel = "/guests/hello.elf"\n')
    assert c == {"name": "tiny", "type": "pv", "memory": "128", "vcpus": "1", "kernel": "/guests/hello.elf",
                 "ramdisk": "", "cmdline": "", "on_poweroff": "destroy", "on_reboot": "restart",
                 "on_crash": "destroy", "on_watchdog": "destroy", "disks": []}


def test_every_key_and_form(tool, tmp_path):
    c = parse(tool, tmp_path, """# a DomU of the kit
name = 'web-1.test'
type = "hvm"      # hardware-virtualized
memory = 0x40;
vcpus = 1
kernel = "/guests/linux"
ramdisk = '/guests/initrd.gz'
cmdline = "console=hvc0 nonce=7"
disk = [ 'disk/web.img,raw,xvda,rw',
         # a second disk, named by keys, read-only
         "vdev=xvdb, access=ro, target=disk/data.img",
       ]
on_poweroff = "preserve"
on_reboot = "rename-restart"
on_crash = 'coredump-restart'
on_watchdog = "restart"
""")
    assert c["name"] == "web-1.test" and c["type"] == "hvm" and c["memory"] == "64"
    assert c["kernel"] == "/guests/linux" and c["ramdisk"] == "/guests/initrd.gz"
    assert c["cmdline"] == "console=hvc0 nonce=7"
    assert c["disks"] == ["disk/web.img xvda rw", "disk/data.img xvdb ro"]
    assert (c["on_poweroff"], c["on_reboot"], c["on_crash"], c["on_watchdog"]) == \
        ("preserve", "rename-restart", "coredump-restart", "restart")


@pytest.mark.parametrize("text, message", [
    ('kernel = "k"\n', "vm.cfg:2: no name: xl.cfg requires name = \"...\""),
    ('name = "a"\n', "no kernel"),
    ('name = "a"\nkernel = "k"\ncolour = "blue"\n', "vm.cfg:3: key 'colour': unknown key"),
    ('name = "a"\nkernel = "k"\nvif = [ "bridge=xenbr0" ]\n',
     "vm.cfg:3: key 'vif': Xen's xl knows it, the kit's does not support it (yet)"),
    ('name = "a"\nname = "b"\nkernel = "k"\n', "vm.cfg:2: key 'name': set twice"),
    ('name = "two words"\nkernel = "k"\n', "key 'name': a name is letters, digits"),
    ('name = "a"\nkernel = "k"\nmemory = "lots"\n', "vm.cfg:3: key 'memory': memory is a number of MiB"),
    ('name = "a"\nkernel = "k"\nmemory = 0\n', "key 'memory': memory is a number of MiB, at least 1"),
    ('name = "a"\nkernel = "k"\nmemory = 12abc\n', "key 'memory': a number, a quoted string or a [list]"),
    ('name = "a"\nkernel = "k"\nmemory = 99999999999999999999999\n', "key 'memory': the number is too large"),
    ('name = "a"\nkernel = "k"\nvcpus = 4\n', "key 'vcpus': the kit runs one vCPU per domain"),
    ('name = "a"\nkernel = "k"\ntype = "xen"\n', "key 'type': type is \"pv\", \"pvh\" or \"hvm\""),
    ('name = "a"\nkernel = "k"\non_crash = "explode"\n', "key 'on_crash': the action is destroy, restart"),
    ('name = "a\nkernel = "k"\n', "vm.cfg:1: key 'name': a string must end on its own line"),
    ('name = "a"\nkernel = "k"\ndisk = [ "d.img,raw,xvda,rw"\n', "key 'disk': the list has no closing ]"),
    ('name = "a"\nkernel = "k"\ndisk = "d.img,raw,xvda,rw"\n', "key 'disk': disk is a list"),
    ('name = "a"\nkernel = "k"\ndisk = [ "d.img,qcow2,xvda,rw" ]\n', "key 'disk': format must be raw"),
    ('name = "a"\nkernel = "k"\ndisk = [ "d.img,raw,hda,rw" ]\n', "key 'disk': vdev must be xvda .. xvdz"),
    ('name = "a"\nkernel = "k"\ndisk = [ "d.img,raw,xvda,rw", "e.img,raw,xvda" ]\n',
     "key 'disk': two disks with the same vdev"),
    ('name = "a"\nkernel = "k"\ndisk = [ "d.img,raw" ]\n', "key 'disk': a disk needs its vdev"),
    ('name = "a"\nkernel = "k"\ndisk = [ "d.img,raw,xvda,rw,extra" ]\n', "key 'disk': a disk is at most"),
    ('name = "a" kernel = "k"\n', "vm.cfg:1: key 'name': one setting per line"),
    ('name "a"\n', "vm.cfg:1: key 'name': '=' is missing after the key"),
    ('= "a"\n', "vm.cfg:1: a line must be KEY = VALUE"),
    ('name =\nkernel = "k"\n', "vm.cfg:1: key 'name': the value is missing"),
])
def test_refusals_name_the_line_and_key(tool, tmp_path, text, message):
    got = parse(tool, tmp_path, text)
    assert isinstance(got, str), f"accepted: {got}"
    assert message in got, got


def test_garbage_is_refused_not_crashed_on(tool, tmp_path):
    import random
    rng = random.Random(20261202)
    for _ in range(200):
        junk = bytes(rng.choice(b'name="kernl=[]#,\n\'x0 19') for _ in range(rng.randrange(1, 300)))
        got = parse(tool, tmp_path, junk)          # ASan/UBSan would fail the tool on any memory error
        assert isinstance(got, (str, dict))
