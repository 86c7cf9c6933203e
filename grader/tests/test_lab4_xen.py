"""Lab 4: domains that talk to each other on Xen's ABI — interdomain event channels and grant tables v1.

Two boots of the hypervisor, shared by the module: in each, six domains play
two games at once — event-channel ping-pong (guests/tests/evtchn_pingpong.c:
ping, pong, and an attacker on their ports) and a page shared through a
grant table (guests/tests/grant_share.c: granter, mapper, and an attacker on
the granter's grants). The first boot runs them all paravirtualized; in the
second, ping, the attacker, the granter and both grant users are HVM
domains under SVM with nested paging, and pong stays PV (an event crosses
from one kind to the other). The same six domains as the second boot run
once more in Bochs, under Intel VMX with EPT (the `vmx` tests). The domains learn each other's ids from their
command lines (domains are numbered d1, d2, ... in module order) and the
port from the rule that a fresh domain's first port is 1.

Every expected line is computed here from the nonce and Xen's numbers
(xen/include/public/event_channel.h, grant_table.h, errno.h), never copied
from a run.
"""
import re

import pytest

from gradelib import Run, fnv1a64, run_bochs, run_qemu, splitmix64_sequence
from test_lab1_equivalence import HV_TIMEOUT, domain_end, domain_id, expect_exit, module, transcript

pytestmark = pytest.mark.handout("labs/lab4/README.md")

# Xen's errno.h and event_channel.h
EPERM, ESRCH, EFAULT, EINVAL = 1, 3, 14, 22
EVTCHNSTAT_closed, EVTCHNSTAT_unbound, EVTCHNSTAT_interdomain = 0, 1, 2
# Xen's grant_table.h
GNTST_okay, GNTST_general_error, GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_handle = 0, -1, -2, -3, -4
GNTST_permission_denied, GNTST_bad_copy_arg = -8, -10
GTF_permit_access, GTF_readonly, GTF_reading, GTF_writing = 1, 1 << 2, 1 << 3, 1 << 4
GRANT_FRAMES_MAX = 4  # Hypatia's limit per domain (kernel/include/grant_table.h)

# (name, build kind, guest, options) in module order: d1 ... d6.
def domains(hvm):
    nested = " mode=nested" if hvm else ""
    return [
        ("ping", "image" if hvm else "pv", "evtchn_pingpong", f"mem=4M role=ping peer=2{nested}"),
        ("pong", "pv", "evtchn_pingpong", "mem=4M role=pong peer=1 port=1"),
        ("evil", "image" if hvm else "pv", "evtchn_pingpong", f"mem=4M role=attack victim=1{nested}"),
        ("granter", "image" if hvm else "pv", "grant_share", f"mem=4M role=granter mapper=5 attacker=6{nested}"),
        ("mapper", "image" if hvm else "pv", "grant_share", f"mem=4M role=mapper granter=4{nested}"),
        ("thief", "image" if hvm else "pv", "grant_share", f"mem=4M role=attacker granter=4 mapper=5{nested}"),
    ]


BOCHS_TIMEOUT = 120


class Boot:
    """One boot with the six domains: QEMU (SVM), or Bochs for @vmx (Intel VMX with EPT)."""

    def __init__(self, build, nonce, hvm, vmx=False):
        self.nonce, self.hvm = nonce, hvm
        modules = [module(build, kind, guest, name, nonce, options) for name, kind, guest, options in domains(hvm)]
        if vmx:
            self.run = run_bochs(build.kernel, f"nonce={nonce}", modules=modules, timeout=BOCHS_TIMEOUT)
        else:
            self.run = run_qemu(build.kernel32, f"nonce={nonce}", modules=modules, timeout=2 * HV_TIMEOUT)

    def domain(self, name):
        """The boot as domain @name saw it: its lines and the hypervisor's lines about it."""
        r = self.run
        if self.hvm and "mode vmx" not in r.output and "mode svm" not in r.output and r.status == "success":
            r.fail("no domain ran on a hardware-assisted backend (lab 3)")
        n = domain_id(r, name)
        mine = re.compile(rf"^(\[d{n}\] |\[hv\] d{n}\b|\[hv\] (exit|panic|PANIC|LAB)|PANIC|panic)")
        lines = [line for line in r.lines if mine.match(line)]
        return Run(r.command, "\n".join(lines) + "\n", r.status, r.exit_code, r.duration, r.stderr)


class Boots(dict):
    """The module's boots, each made when a test first asks for it (the Bochs one only if a VMX test runs)."""

    def __init__(self, build, nonce):
        super().__init__()
        self.build, self.nonce = build, nonce

    def __missing__(self, kind):
        self[kind] = Boot(self.build, self.nonce, kind != "pv", vmx=kind == "vmx")
        return self[kind]


@pytest.fixture(scope="module")
def boots(build, module_nonce):
    return Boots(build, module_nonce)


def expect_transcript(r, name, want):
    got = transcript(r, name)
    if got != want:
        missing = [line for line in want if line not in got]
        r.fail(f"domain '{name}' printed:\n      " + "\n      ".join(got) +
               f"\n  but should have printed:\n      " + "\n      ".join(want) +
               ("\n  first line missing or different: " + missing[0] if missing else ""))
    expect_exit(r, name, 0x10)


def rounds(nonce):
    return 20 + nonce % 40


def expected_ping(nonce):
    n = rounds(nonce)
    # A fresh domain's first port is 1; pong (d2) binds a port of its own, also its first.
    return [f"evtchn_pingpong: nonce={nonce} role=ping",
            f"alloc_unbound(remote d2): 0, port 1; status {EVTCHNSTAT_unbound}, unbound for d2",
            f"alloc_unbound in d2's table: -{EPERM}",  # only a privileged domain allocates in another's table
            f"bound: status {EVTCHNSTAT_interdomain}, remote d2 port 1",
            f"ping: {n} rounds, {n} replies, nonce {nonce}",
            f"close(1): 0; status {EVTCHNSTAT_closed}",
            "RESULT: PASS"]


def expected_pong(nonce):
    n = rounds(nonce)
    return [f"evtchn_pingpong: nonce={nonce} role=pong",
            "bind_interdomain(d1 port 1): 0, local port 1",
            "pending after the bind: 1",  # Xen raises the new local port at once
            f"status {EVTCHNSTAT_interdomain}, remote d1 port 1",
            f"bind_interdomain again: -{EINVAL}",  # no longer unbound
            f"pong: {n} pings answered",
            # ping closed its end: this one is unbound again, for d1; a send with nobody there is dropped (0)
            f"after the peer closed: status {EVTCHNSTAT_unbound}, unbound for d1; send: 0; close: 0",
            "RESULT: PASS"]


def expected_evtchn_attacker(nonce):
    return [f"evtchn_pingpong: nonce={nonce} role=attack",
            "send on ports 1-8, none its own: 8 of 8 -EINVAL",
            f"close(1): -{EINVAL}",
            f"bind_interdomain(d1 port 1, not meant for it): -{EINVAL}",
            f"bind_interdomain(d{100 + nonce % 100}, no such domain): -{ESRCH}",
            f"alloc_unbound in d1's table: -{EPERM}",
            f"status of d1's port 1: -{ESRCH}",
            "RESULT: PASS"]


def words(seed, count):
    return splitmix64_sequence(seed, count)


def le_bytes(values):
    return b"".join(v.to_bytes(8, "little") for v in values)


def expected_granter(nonce, hvm):
    want = [f"grant_share: nonce={nonce} role=granter"]
    if hvm:
        want += ["add_to_physmap(grant_table, frame 0): 0",
                 f"setup_table(1 frame): 0, status {GNTST_okay}, the page placed: yes"]
    else:
        # Not placed with add_to_physmap: setup_table puts frame 0 at the top of the 4 MiB domain, below the
        # command line's page (frame 1023): frame 1022 (kernel/include/grant_table.h).
        want.append(f"setup_table(1 frame): 0, status {GNTST_okay}, frame {4 * 256 - 2}")
    rw, ro = GTF_permit_access, GTF_permit_access | GTF_readonly
    want += [f"query_size: 0, status {GNTST_okay}, 1 of {GRANT_FRAMES_MAX} frames",
             f"set_version(1): 0, version 1; set_version(2): -{EINVAL}",
             f"setup_table(d5's table): status {GNTST_permission_denied}",
             "revoke ref+3 (never mapped): done, flags 0x0",
             # while mapped: reading (and writing, for the read-write grant) are set; the revoke's swap fails
             f"mapper done; flags of ref {rw | GTF_reading | GTF_writing:#x}, of ref+1 {ro | GTF_reading:#x}",
             f"revoke ref while mapped: refused, flags {rw | GTF_reading | GTF_writing:#x}",
             "after the unmaps: revoke ref done, ref+1 done; flags 0x0 0x0",
             "own words intact: 256 of 256",
             "mapper's words: 128 of 128",
             "copied bytes (ref+1 @8 -> ref @3072): right",
             "read-only page intact: 512 of 512",
             f"attacker done; its grant's flags {rw:#x}; revoke: done",
             "after the attacks: own words intact 256 of 256, read-only page 512 of 512, c_page 512 of 512",
             "RESULT: PASS"]
    return want


def expected_mapper(nonce):
    ro_page = words(nonce ^ 0x5A5A, 9)
    return [f"grant_share: nonce={nonce} role=mapper",
            f"map ref (read-write): status {GNTST_okay}",
            "granter's words: 256 of 256",
            f"map ref+1 writable: status {GNTST_general_error}",  # a read-only grant
            f"map ref+1 read-only: status {GNTST_okay}, first word {ro_page[0]:x}",
            f"xen_version(extraversion) into the read-only page: -{EFAULT}",  # not even the hypervisor writes it
            f"copy ref+1 @8 -> own page: status {GNTST_okay}, fnv {fnv1a64(le_bytes(ro_page[1:9])):x}",
            f"copy own page -> ref @3072: status {GNTST_okay}",
            f"copy own page -> ref+1 (read-only): status {GNTST_general_error}",
            f"copy across a page end: status {GNTST_bad_copy_arg}",
            f"unmap both: status {GNTST_okay} {GNTST_okay}; again: {GNTST_bad_handle}",
            "own page back: yes",
            "RESULT: PASS"]


def expected_thief(nonce):
    c_page = words(nonce + 1, 1)
    far = 512 + nonce % 1000
    return [f"grant_share: nonce={nonce} role=attacker",
            f"map its own grant ref+2: status {GNTST_okay}",
            f"map ref (d5's grant): status {GNTST_general_error}",  # meant for another domain
            f"map ref+3 (revoked): status {GNTST_general_error}",
            f"map ref+4 (read-only) writable: status {GNTST_general_error}",
            f"map ref+4 read-only: status {GNTST_okay}, first word {c_page[0]:x}",
            f"unmap it: status {GNTST_okay}",
            f"map ref {far} (past the table): status {GNTST_bad_gntref}; ref 0xffffffff: status {GNTST_bad_gntref}",
            f"map from d{200 + nonce % 100} (no such domain): status {GNTST_bad_domain}",
            f"map without GNTMAP_host_map: status {GNTST_bad_gntref}",  # Xen's answer to no mapping flags
            f"unmap handle {40 + nonce % 20} (never given): status {GNTST_bad_handle}",
            f"unmap its handle at another address: status {GNTST_general_error}",
            f"copy from ref (d5's grant): status {GNTST_general_error}",
            f"copy into ref+4 (read-only): status {GNTST_general_error}",
            f"copy from d4's frame as its own: status {GNTST_permission_denied}",
            f"query_size(d4's table): status {GNTST_permission_denied}",
            f"unmap its grant: status {GNTST_okay}",
            "RESULT: PASS"]


# vmx: the hvm boot's domains under Intel VMX with EPT, in Bochs (slow: --no-slow leaves it out).
KINDS = pytest.mark.parametrize("kind", ["pv", "hvm", pytest.param("vmx", marks=pytest.mark.slow)])


def points(n):
    return pytest.mark.points(n)


@points(5)
@pytest.mark.student
@KINDS
def test_event_channel_pingpong(boots, kind):
    """Ping allocates an unbound port for pong, pong binds it (bind_interdomain), then rounds of sends each
    way (evtchn_send_interdomain, kernel/dom/evtchn_send.c); ping closes, pong's end is unbound again.
    hvm: ping is an HVM domain under SVM, pong stays PV; vmx: the same under Intel VMX in Bochs."""
    b = boots[kind]
    expect_transcript(b.domain("ping"), "ping", expected_ping(b.nonce))
    expect_transcript(b.domain("pong"), "pong", expected_pong(b.nonce))


@points(3)
@pytest.mark.student
@KINDS
def test_event_channel_attacks_hurt_only_the_attacker(boots, kind):
    """A third domain sends on, closes, binds and allocates ports that are not its own: each refused with
    Xen's error, and the ping-pong beside it runs to the end undisturbed."""
    b = boots[kind]
    expect_transcript(b.domain("evil"), "evil", expected_evtchn_attacker(b.nonce))
    expect_transcript(b.domain("ping"), "ping", expected_ping(b.nonce))
    expect_transcript(b.domain("pong"), "pong", expected_pong(b.nonce))


@points(8)
@pytest.mark.student
@KINDS
def test_grant_map_copy_unmap(boots, kind):
    """The granter's table (setup_table, or add_to_physmap for HVM), a read-write and a read-only grant
    mapped by the mapper (grant_check_access, kernel/dom/grant_check.c), copies through grants, a grant
    that cannot be revoked while mapped, the unmap — and every word where it should be."""
    b = boots[kind]
    expect_transcript(b.domain("mapper"), "mapper", expected_mapper(b.nonce))
    expect_transcript(b.domain("granter"), "granter", expected_granter(b.nonce, kind != "pv"))


@points(4)
@pytest.mark.student
@KINDS
def test_grant_attacks_hurt_only_the_attacker(boots, kind):
    """A third domain maps another's grant, a revoked one, a read-only one writable, references past the
    table, a domain that does not exist, a handle it never got; copies it may not: Xen's status each
    time, and the granter finds its pages intact."""
    b = boots[kind]
    expect_transcript(b.domain("thief"), "thief", expected_thief(b.nonce))
    expect_transcript(b.domain("granter"), "granter", expected_granter(b.nonce, kind != "pv"))


def test_lab4_guests_skip_natively(build, nonce):
    """Kit check: natively there is no hypervisor to talk to — the guests say SKIP, not crash."""
    for guest in ("evtchn_pingpong", "grant_share"):
        r = run_qemu(build.guest_native(guest), f"nonce={nonce} role=ping", timeout=15)
        r.expect_status("success")
        r.expect(r"^RESULT: SKIP ", f"'RESULT: SKIP' from {guest} natively")
