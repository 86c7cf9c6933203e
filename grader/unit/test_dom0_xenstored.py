"""Dom0's xenstored over real ring pages, on the host: Xen's wire protocol, permissions, watches, transactions.

guests/dom0/xenstored.c is compiled for the host (ASan/UBSan) with a harness that gives
each domain a xenstore_domain_interface page. Messages are built here byte by byte from
Xen's xs_wire.h (16-byte header, NUL-terminated strings) and the replies parsed the same
way; what each must be comes from docs/misc/xenstore.txt, not from a run.
"""
import struct
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostlib import build_dom0_tool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
T = dict(DIRECTORY=1, READ=2, GET_PERMS=3, WATCH=4, UNWATCH=5, TRANSACTION_START=6, TRANSACTION_END=7,
         GET_DOMAIN_PATH=10, WRITE=11, MKDIR=12, RM=13, SET_PERMS=14, WATCH_EVENT=15, ERROR=16)


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    return build_dom0_tool(tmp_path_factory.mktemp("xenstored_tool"), "xenstored_tool", ['grader/unit/host/xenstored_tool.c', 'guests/dom0/xenstored.c', 'guests/dom0/xenstore_tree.c'])


class Session:
    """A script of requests; run() sends it and sorts the answers by domain and request."""

    def __init__(self, tool):
        self.tool, self.lines, self.ids = tool, [], {}

    def raw(self, line):
        self.lines.append(line)

    def req(self, d, kind, *strings, value=None, tx=0, payload=None):
        if payload is None:
            payload = b"".join(s.encode() + b"\0" for s in strings) + (value or b"")
        self.lines.append(f"req {d} {T[kind]} {tx} {payload.hex()}")
        self.ids[d] = self.ids.get(d, 0) + 1
        return (d, self.ids[d])

    def run(self):
        out = subprocess.run([str(self.tool)], input="\n".join(self.lines) + "\n", capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        self.replies, self.events, self.cut, self.order = {}, {}, {}, []
        for line in out.stdout.splitlines():
            parts = line.split(" ", 3)
            if parts[0] == "cut":
                self.cut[int(parts[1])] = parts[2] + (" " + parts[3] if len(parts) > 3 else "")
                continue
            if parts[0] != "msg":
                continue
            d, kind, req, rest = int(parts[1]), int(parts[2]), int(parts[3].split()[0]), parts[3].split()
            payload = bytes.fromhex(rest[2]) if len(rest) > 2 else b""
            if kind == T["WATCH_EVENT"]:
                self.events.setdefault(d, []).append(payload)
            else:
                self.replies[(d, req)] = (kind, payload)
                self.order.append((d, req))
        return self

    def answer(self, key):
        kind, payload = self.replies[key]
        if kind == T["ERROR"]:
            return "error " + payload.rstrip(b"\0").decode()
        return payload


def test_reads_writes_directories_and_domain_paths(tool):
    s = Session(tool)
    s.raw("connect 0")
    w = s.req(0, "WRITE", "/local/domain/0/backend/vbd/1/51712/state", value=b"2")
    r = s.req(0, "READ", "/local/domain/0/backend/vbd/1/51712/state")
    m = s.req(0, "MKDIR", "/local/domain/0/backend/vbd/1/51713")
    d = s.req(0, "DIRECTORY", "/local/domain/0/backend/vbd/1")
    p = s.req(0, "GET_DOMAIN_PATH", "7")
    rm = s.req(0, "RM", "/local/domain/0/backend/vbd/1/51712")
    gone = s.req(0, "READ", "/local/domain/0/backend/vbd/1/51712/state")
    s.run()
    assert s.answer(w) == b"OK\0" and s.answer(r) == b"2" and s.answer(m) == b"OK\0"
    assert sorted(s.answer(d).split(b"\0")[:-1]) == [b"51712", b"51713"]
    assert s.answer(p) == b"/local/domain/7\0"
    assert s.answer(rm) == b"OK\0" and s.answer(gone) == "error ENOENT"


def test_a_domain_reaches_its_own_subtree_and_what_it_was_given(tool):
    s = Session(tool)
    for d in (0, 1, 2):
        s.raw(f"connect {d}")
    own = s.req(1, "WRITE", "data/secret", value=b"from one")           # relative: /local/domain/1/data/secret
    peek = s.req(2, "READ", "/local/domain/1/data/secret")
    scribble = s.req(2, "WRITE", "/local/domain/1/data/secret", value=b"from two")
    trespass = s.req(1, "WRITE", "/local/domain/2/planted", value=b"x")
    root = s.req(1, "WRITE", "/tool/evil", value=b"x")
    listing = s.req(2, "DIRECTORY", "/local/domain")
    grant = s.req(0, "SET_PERMS", "/local/domain/1/data/secret", "n1", "r2")
    perms = s.req(0, "GET_PERMS", "/local/domain/1/data/secret")
    now = s.req(2, "READ", "/local/domain/1/data/secret")
    still = s.req(2, "WRITE", "/local/domain/1/data/secret", value=b"from two")
    mine = s.req(1, "READ", "data/secret")
    s.run()
    assert s.answer(own) == b"OK\0"
    assert s.answer(peek) == s.answer(scribble) == s.answer(trespass) == s.answer(root) == "error EACCES"
    assert sorted(s.answer(listing).split(b"\0")[:-1]) == [b"0", b"1", b"2"]
    assert s.answer(grant) == b"OK\0" and s.answer(perms) == b"n1\0r2\0"
    assert s.answer(now) == b"from one" and s.answer(still) == "error EACCES"
    assert s.answer(mine) == b"from one"                                 # the owner keeps full access


def test_watches_fire_for_what_the_watcher_may_read(tool):
    s = Session(tool)
    for d in (0, 1, 2):
        s.raw(f"connect {d}")
    s.req(1, "WATCH", "device", "front")                                   # relative watch
    s.req(2, "WATCH", "/local/domain/1", "spy")
    s.req(0, "WATCH", "@releaseDomain", "gone")
    s.req(0, "WRITE", "/local/domain/1/device/vbd/51712/state", value=b"1")
    dup = s.req(1, "WATCH", "device", "front")
    s.req(1, "UNWATCH", "device", "front")
    s.req(0, "WRITE", "/local/domain/1/device/vbd/51712/state", value=b"3")
    s.raw("release 2")
    s.run()
    assert s.events[1] == [b"device\0front\0", b"device/vbd/51712/state\0front\0"]   # once at once, then the change
    assert s.events[2] == [b"/local/domain/1\0spy\0"]                   # registration only: it may not read there
    assert s.events[0] == [b"@releaseDomain\0gone\0", b"@releaseDomain\0gone\0"]
    assert s.answer(dup) == "error EEXIST"


def test_transactions_are_serialized_and_an_abort_undoes(tool):
    s = Session(tool)
    for d in (0, 1, 2):
        s.raw(f"connect {d}")
    start = s.req(1, "TRANSACTION_START", "")
    s.run()
    tx = int(s.answer(start).rstrip(b"\0"))
    s = Session(tool)
    for d in (0, 1, 2):
        s.raw(f"connect {d}")
    s.req(1, "TRANSACTION_START", "")
    inside = s.req(1, "WRITE", "ring-ref", value=b"8", tx=tx)
    waiting = s.req(2, "GET_DOMAIN_PATH", "2")                           # another domain: must wait
    wrong = s.req(1, "WRITE", "x", value=b"1", tx=tx + 5)
    abort = s.req(1, "TRANSACTION_END", "F", tx=tx)
    after = s.req(1, "READ", "ring-ref")
    again = s.req(1, "TRANSACTION_START", "")
    s.run()
    assert s.answer(inside) == b"OK\0" and s.answer(wrong) == "error ENOENT"
    assert s.answer(abort) == b"OK\0" and s.answer(after) == "error ENOENT"   # the write was undone
    assert s.order.index(waiting) > s.order.index(abort)                 # served only after the transaction
    assert s.answer(waiting) == b"/local/domain/2\0"
    assert int(s.answer(again).rstrip(b"\0")) == tx + 1


def test_bad_messages_refused_and_bad_domains_cut_off_alone(tool):
    s = Session(tool)
    for d in (0, 1, 2, 3, 4):
        s.raw(f"connect {d}")
    nul = s.req(1, "READ", payload=b"/local/domain/1")                  # no NUL
    big = s.req(1, "WRITE", "v", value=b"x" * 300)                        # past XS_VALUE_MAX
    badpath = s.req(1, "READ", "/local//domain")
    oversize = struct.pack("<IIII", T["READ"], 99, 0, 5000)
    s.raw(f"raw 2 {oversize.hex()}")                                      # a 5000-byte message: cut off
    s.raw("badindex 3")                                                   # indexes a ring apart: cut off
    s.raw("deaf 4")
    for i in range(400):                                                  # never reads its replies: cut off
        s.req(4, "GET_DOMAIN_PATH", str(i))
    after2 = s.req(2, "GET_DOMAIN_PATH", "2")
    fine = s.req(0, "GET_DOMAIN_PATH", "0")
    fine1 = s.req(1, "GET_DOMAIN_PATH", "1")
    s.run()
    assert s.answer(nul) == s.answer(badpath) == "error EINVAL" and s.answer(big) == "error E2BIG"
    assert "a message of 5000 bytes" in s.cut[2]
    assert "more than a ring apart" in s.cut[3]
    assert "does not read its replies" in s.cut[4]
    assert after2 not in s.replies                                        # a cut-off domain is not served
    assert s.answer(fine) == b"/local/domain/0\0" and s.answer(fine1) == b"/local/domain/1\0"
    assert set(s.cut) == {2, 3, 4}
