"""Dom0's save-image code against Xen's stream format, read and written by independent Python.

guests/dom0/save_stream.c (compiled for the host, ASan/UBSan) writes a stream; the
Python here parses it from Xen's docs/specs/libxc-migration-stream.pandoc alone — the
image header in network byte order, the domain header, records padded to 8 bytes, the
PAGE_DATA layout, the kit's optional checksum record (CRC-32 via zlib) — and
regenerates every page from the seed. Then Python writes streams, good and bad, and the
C reader must accept the good ones and refuse every bad one with a clear message.
"""
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostlib import build_dom0_tool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
MASK64 = (1 << 64) - 1
OPTIONAL = 0x80000000
CHECKSUM = OPTIONAL | 0x4859


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    return build_dom0_tool(tmp_path_factory.mktemp("save_tool"), "save_tool", ['grader/unit/host/save_tool.c', 'guests/dom0/save_stream.c', 'guests/dom0/crc32.c'])


def splitmix(state):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


def expected_content(seed, pages):
    """What `save_tool write` must put in the stream, from its seed (see save_tool.c)."""
    rng = splitmix(seed)
    context = bytes(next(rng) & 0xFF for _ in range(1000))
    pfns, data = [], []
    for i in range(pages):
        pfns.append(16 + 3 * i + next(rng) % 3)
        data.append(b"".join(struct.pack("<Q", next(rng)) for _ in range(512)))
    return context, pfns, data


def parse(stream):
    """Xen's format, read by the spec: ([(type, body)], domain type)."""
    marker, ident, version, options = struct.unpack_from(">QIIH", stream, 0)
    assert (marker, ident, version, options) == (MASK64, 0x58454E46, 3, 0)
    dtype, page_shift, _, major, minor = struct.unpack_from("<IHHII", stream, 24)
    assert page_shift == 12 and (major, minor) == (4, 17)
    records, at = [], 40
    while True:
        rtype, length = struct.unpack_from("<II", stream, at)
        body = stream[at + 8:at + 8 + length]
        padding = stream[at + 8 + length:at + 8 + length + (-length) % 8]
        assert padding == bytes(len(padding)) and len(body) == length
        if rtype == CHECKSUM:
            assert struct.unpack_from("<I", body)[0] == zlib.crc32(stream[:at]), "checksum of the bytes before it"
        records.append((rtype, body))
        at += 8 + length + (-length) % 8
        if rtype == 0:
            assert at == len(stream)
            return records, dtype


def test_what_it_writes_is_xens_format(tool, tmp_path):
    seed, pages = random.SystemRandom().randrange(1 << 63), 9
    out = tmp_path / "dom.save"
    subprocess.run([str(tool), "write", str(out), "hvm", str(pages), str(seed)], check=True)
    records, dtype = parse(out.read_bytes())
    assert dtype == 2
    context, pfns, data = expected_content(seed, pages)
    assert [t for t, _ in records] == [9, OPTIONAL | 0x77, 1, 1, CHECKSUM, 0]
    assert records[0][1] == context and records[1][1] == b"skip me"
    got_pfns, got_pages = [], []
    for _, body in (r for r in records if r[0] == 1):
        count, reserved = struct.unpack_from("<II", body)
        assert reserved == 0 and len(body) == 8 + 8 * count + 4096 * count
        entries = struct.unpack_from(f"<{count}Q", body, 8)
        assert all(e >> 60 == 0 for e in entries)                  # type NOTAB: data follows
        got_pfns += [e & ((1 << 60) - 1) for e in entries]
        got_pages += [body[8 + 8 * count + 4096 * i:8 + 8 * count + 4096 * (i + 1)] for i in range(count)]
    assert got_pfns == pfns and got_pages == data


def record(rtype, body):
    return struct.pack("<II", rtype, len(body)) + body + bytes((-len(body)) % 8)


def stream_of(records, version=3, options=0, dtype=1, checksum=True):
    out = struct.pack(">QIIHHI", MASK64, 0x58454E46, version, options, 0, 0)
    out += struct.pack("<IHHII", dtype, 12, 0, 4, 17)
    for r in records:
        out += r
    if checksum:
        out += record(CHECKSUM, struct.pack("<II", zlib.crc32(out), 0))
    return out + record(0, b"")


def read(tool, tmp_path, data):
    path = tmp_path / "in.save"
    path.write_bytes(data)
    proc = subprocess.run([str(tool), "read", str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, proc.stdout


def page_data(pfns, fill):
    return record(1, struct.pack("<II", len(pfns), 0) + struct.pack(f"<{len(pfns)}Q", *pfns) +
                  b"".join(bytes([fill + i]) * 4096 for i in range(len(pfns))))


def test_reads_a_stream_written_by_the_spec(tool, tmp_path):
    good = stream_of([record(9, b"hvm context"), record(OPTIONAL | 5, b"unknown, optional"),
                      page_data([7, 99], 1)])
    code, out = read(tool, tmp_path, good)
    assert code == 0, out
    assert out.splitlines()[0] == "domain 1 from Xen 4.17"
    assert "record 0x9 11" in out and "page 7 " in out and "page 99 " in out and "0x80000005" not in out


@pytest.mark.parametrize("name, make, words", [
    ("not a save file", lambda g: b"#!/bin/sh\necho hello\n" * 4, "no 0xFF marker"),
    ("another id", lambda g: g[:8] + b"QEMU" + g[12:], "its id is not \"XENF\""),
    ("version 2", lambda g: stream_of([], version=2), "a version-2 save image"),
    ("big-endian", lambda g: stream_of([], options=1), "big-endian"),
    ("an unknown domain type", lambda g: stream_of([], dtype=7), "neither an x86 PV nor an x86 HVM"),
    ("truncated in a page", lambda g: g[:len(g) // 2], "truncated"),
    ("truncated before END", lambda g: g[:-8], "truncated"),
    ("one bit flipped in a page", lambda g: g[:300] + bytes([g[300] ^ 4]) + g[301:], "checksum does not match"),
    ("no checksum record", lambda g: stream_of([page_data([1], 3)], checksum=False), "without the kit's checksum"),
    ("padding not zeros", lambda g: stream_of([struct.pack("<II", 9, 3) + b"abc" + b"\x01" * 5]),
     "padding is not zeros"),
    ("a huge record", lambda g: stream_of([struct.pack("<II", 9, 0x7FFFFFFF)]), "claims 2147483647 bytes"),
    ("a PAGE_DATA count that lies", lambda g: stream_of([record(1, struct.pack("<II", 3, 0) + bytes(8 + 4096))]),
     "does not match its page count"),
    ("a page type it does not restore", lambda g: stream_of([record(1, struct.pack("<IIQ", 1, 0, 1 << 60 | 5) +
                                                                     bytes(4096))]), "page types"),
])
def test_bad_streams_are_refused_clearly(tool, tmp_path, name, make, words):
    good = stream_of([record(9, b"context"), page_data([5, 6], 9)])
    assert read(tool, tmp_path, good)[0] == 0
    code, out = read(tool, tmp_path, make(good))
    assert code == 1, f"{name}: accepted\n{out}"
    assert "error: " in out and words in out, f"{name}: {out}"
