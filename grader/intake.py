"""Submission intake for the batch grader: read one submission safely, or refuse it.

A submission is a tarball or a directory (a git checkout). `load_submission`
fills a `Submission` with the bytes of the lab's student files and nothing
else, after checking everything in it: no absolute paths, no `..`, no links
out of the tree, no device files or FIFOs, nothing over the size `Limits`,
and no student file that pulls the grader's machine into the build (`#include`
by an absolute or `..` path, `.incbin`). Anything wrong raises `Refused`, whose
message is written for the student. `manifest_notes` then compares what was
read with the handin manifest (`make handin`'s). Nothing here builds or runs a
submission: that is batch.py's job.
"""
import hashlib
import json
import os
import posixpath
import re
import tarfile
import zlib
from pathlib import Path

MiB = 1 << 20
HANDIN_DIR = "handin"          # where scripts/handin puts its manifest and git log
# A student file may include the kit's headers, not the grader's machine.
BAD_INCLUDE = re.compile(rb'^\s*#\s*include\s*[<"]([^">]*)[">]', re.M)


class Refused(Exception):
    """A submission the batch cannot grade; the message says why, for the student."""


class Limits:
    """Size limits on a submission; the batch sets the first three from --max-archive-mib,
    --max-file-mib and --max-total-mib."""

    def __init__(self, archive_mib=32, file_mib=8, total_mib=64, student_file_mib=1, members=20000):
        self.archive = archive_mib * MiB        # the tarball itself, compressed
        self.file = file_mib * MiB              # any one member
        self.total = total_mib * MiB            # all members, uncompressed
        self.student_file = student_file_mib * MiB
        self.members = members


class Submission:
    """One entry of the submissions folder: a name, a path, and what was read from it."""

    def __init__(self, name, path):
        self.name = name
        self.path = path
        self.kind = "directory" if path.is_dir() else "tarball"
        self.files = {}          # student path -> bytes
        self.ignored = []        # other files in the submission, never used
        self.manifest = None     # handin/manifest.json, if any
        self.git_log = ""        # handin/git-log.txt, if any


def _mib(n):
    return f"{n / MiB:.1f} MiB"


def _member_name(name):
    """@name normalised, or Refused if it could land outside the tree."""
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise Refused(f"the archive holds an absolute path, '{name}'; archives must hold relative paths")
    parts = name.split("/")
    if ".." in parts:
        raise Refused(f"the archive holds a path with '..', '{name}'; it could write outside the tree")
    return posixpath.normpath(name)


def _link_escapes(member_name, target, hard):
    if target.startswith("/"):
        return True
    base = "" if hard else posixpath.dirname(member_name)
    return posixpath.normpath(posixpath.join(base, target)).split("/")[0] == ".."


def _find_prefix(names, wanted):
    """The folder inside the archive that holds the student files ('' or 'top/')."""
    counts = {}
    for n in names:
        for w in wanted:
            if n == w or n.endswith("/" + w):
                prefix = n[: len(n) - len(w)]
                counts[prefix] = counts.get(prefix, 0) + 1
    if not counts:
        return None
    return sorted(counts, key=lambda p: (-counts[p], len(p), p))[0]


def _check_student_source(path, data, limits):
    if len(data) > limits.student_file:
        raise Refused(f"{path} is {_mib(len(data))}; a student file may be at most {_mib(limits.student_file)}")
    for inc in BAD_INCLUDE.findall(data):
        if inc.startswith(b"/") or b".." in inc.split(b"/"):
            raise Refused(f"{path} includes '{inc.decode(errors='replace')}' by an absolute or '..' path; "
                          "student files may include only the kit's own headers")
    if b".incbin" in data:
        raise Refused(f"{path} uses .incbin; student files may not pull other files into the build")


def load_tarball(sub, wanted, limits):
    """Read the student files of the tar archive @sub into @sub.files, checking every entry first."""
    size = sub.path.stat().st_size
    if size > limits.archive:
        raise Refused(f"the archive is {_mib(size)}; the limit is {_mib(limits.archive)} "
                      "(hand in only the student files: make handin)")
    try:
        archive = tarfile.open(sub.path, "r:*")
    except (tarfile.TarError, OSError, EOFError):
        with open(sub.path, "rb") as f:
            magic = f.read(4)
        hint = " (it is a zip file)" if magic.startswith(b"PK") else ""
        raise Refused(f"{sub.path.name} is not a tar archive (tar, tar.gz, tar.xz or tar.bz2){hint}; "
                      "make one with make handin") from None
    try:
        with archive:
            _read_tarball(sub, archive, wanted, limits)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise Refused(f"the archive is damaged: {e}") from None


def _read_tarball(sub, archive, wanted, limits):
    members, total = {}, 0
    for m in archive:
        if len(members) >= limits.members:
            raise Refused(f"the archive holds more than {limits.members} entries")
        name = _member_name(m.name)
        if m.ischr() or m.isblk() or m.isfifo():
            raise Refused(f"the archive holds a device or FIFO, '{m.name}'; only files and folders are allowed")
        if m.issym() or m.islnk():
            if _link_escapes(name, m.linkname, m.islnk()):
                what = "hard link" if m.islnk() else "symbolic link"
                raise Refused(f"the archive holds a {what} out of the tree: '{m.name}' -> '{m.linkname}'")
        elif m.isfile():
            if m.size > limits.file:
                raise Refused(f"'{m.name}' in the archive is {_mib(m.size)}; "
                              f"one file may be at most {_mib(limits.file)}")
            total += m.size
            if total > limits.total:
                raise Refused(f"the archive unpacks to more than {_mib(limits.total)}")
        members[name] = m           # a later entry of the same name wins, as with tar
    prefix = _find_prefix(members, wanted)
    if prefix is None:
        listed = ", ".join(sorted(n for n, m in members.items() if m.isfile())[:8]) or "nothing"
        raise Refused(f"none of the lab's student files is in the archive (expected {', '.join(wanted)}; "
                      f"it holds: {listed})")
    missing = [w for w in wanted if prefix + w not in members]
    if missing:
        raise Refused(f"the archive lacks student file(s): {', '.join(prefix + w for w in missing)}")
    for w in wanted:
        m = members[prefix + w]
        if not m.isfile():
            raise Refused(f"'{m.name}' is a link or a folder, not a file: hand in the file itself")
        data = archive.extractfile(m).read()
        _check_student_source(w, data, limits)
        sub.files[w] = data
    used = {prefix + w for w in wanted}
    for name, m in members.items():
        if not m.isfile() or name in used:
            continue
        if name == prefix + HANDIN_DIR + "/manifest.json":
            sub.manifest = _parse_manifest(archive.extractfile(m).read(256 * 1024))
        elif name == prefix + HANDIN_DIR + "/git-log.txt":
            sub.git_log = archive.extractfile(m).read(256 * 1024).decode("utf-8", "replace")
        else:
            sub.ignored.append(name)


def _parse_manifest(data):
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
        return doc if isinstance(doc, dict) else {"error": "handin/manifest.json is not a JSON object"}
    except ValueError:
        return {"error": "handin/manifest.json is not valid JSON"}


def load_directory(sub, wanted, limits):
    """Read the student files of the folder @sub into @sub.files; no link may lead out of it."""
    root = sub.path.resolve()
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                target = Path(os.path.realpath(p))
                if target != root and root not in target.parents:
                    raise Refused(f"'{rel}' is a symbolic link to '{os.readlink(p)}', outside the submission")
            if name in filenames:
                count += 1
                if count > limits.members:
                    raise Refused(f"the submission holds more than {limits.members} files")
                if rel not in wanted and not rel.startswith(HANDIN_DIR + "/"):
                    sub.ignored.append(rel)
    missing = [w for w in wanted if not os.path.lexists(root / w)]
    if missing:
        raise Refused(f"the submission lacks student file(s): {', '.join(missing)}")
    for w in wanted:
        real = (root / w).resolve()
        if root not in real.parents or not real.is_file():
            raise Refused(f"'{w}' is not a regular file inside the submission")
        if real.stat().st_size > limits.file:
            raise Refused(f"'{w}' is {_mib(real.stat().st_size)}; one file may be at most {_mib(limits.file)}")
        data = real.read_bytes()
        _check_student_source(w, data, limits)
        sub.files[w] = data
    manifest = root / HANDIN_DIR / "manifest.json"
    if manifest.is_file() and not manifest.is_symlink() and manifest.stat().st_size < 256 * 1024:
        sub.manifest = _parse_manifest(manifest.read_bytes())


def load_submission(sub, wanted, limits):
    """Fill @sub with its student files (the paths in @wanted), or raise Refused."""
    if sub.path.is_symlink():
        raise Refused("the submission itself is a symbolic link; put the file or folder there")
    if sub.kind == "directory":
        load_directory(sub, wanted, limits)
    elif sub.path.is_file():
        load_tarball(sub, wanted, limits)
    else:
        raise Refused("the submission is neither a file nor a folder")


def manifest_notes(sub, version):
    """Warnings from the handin manifest: files edited after make handin, another kit version."""
    m = sub.manifest
    if m is None:
        return ["no handin manifest (not made with make handin): graded all the same"]
    if "error" in m:
        return [m["error"]]
    notes = []
    if m.get("kit_version") and m["kit_version"] != version:
        notes.append(f"handed in with kit {m['kit_version']}, graded with kit {version}")
    listed = m.get("files") if isinstance(m.get("files"), dict) else {}
    for path, data in sub.files.items():
        digest = hashlib.sha256(data).hexdigest()
        if path in listed and listed[path] != digest:
            notes.append(f"{path} differs from the manifest's sha256: changed after make handin")
    return notes
