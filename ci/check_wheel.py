"""Check built logflow wheels before they are tested or published.

    python ci/check_wheel.py [--tag PLATFORM_TAG] WHEEL...

Each wheel must be one abi3 wheel for CPython >= 3.11 and carry the compiled extension. A
Linux wheel must also claim PLATFORM_TAG in its file name, `auditwheel show` must find it
consistent with exactly that tag (so it links no library outside the tag's policy and no
newer glibc symbol than the tag allows), and its extension must be stripped: no symbol table,
no debug information. Prints one line a wheel: its name, size and tag. Exits 1 on the first
wheel that fails, saying why.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path


class WheelError(Exception):
    """A wheel that must not be shipped."""


def platform_tags(wheel: Path) -> tuple[str, str, set[str]]:
    """The python, abi and platform tags of a wheel's file name."""
    parts = wheel.name.removesuffix(".whl").split("-")
    if len(parts) not in (5, 6) or parts[0] != "logflow":
        raise WheelError(f"{wheel.name}: not a logflow wheel file name")
    python, abi, platform = parts[-3:]
    return python, abi, set(platform.split("."))


def extension(zf: zipfile.ZipFile) -> str:
    """The name of the compiled extension module inside the wheel."""
    names = [n for n in zf.namelist() if re.fullmatch(r"logflow/_native\.[^/]*(so|pyd)", n)]
    if len(names) != 1:
        raise WheelError(f"expected one compiled logflow/_native module, found {names}")
    return names[0]


def check_elf_stripped(data: bytes, name: str) -> None:
    """Fail unless the ELF file has neither a symbol table nor debug sections."""
    from elftools.elf.elffile import ELFFile  # pyelftools comes with auditwheel

    elf = ELFFile(io.BytesIO(data))
    sections = [s.name for s in elf.iter_sections()]
    debug = [s for s in sections if s.startswith((".debug_", ".zdebug_"))]
    if debug:
        raise WheelError(f"{name} carries debug information: {debug}")
    if ".symtab" in sections:
        raise WheelError(f"{name} is not stripped: it has a .symtab")


def auditwheel_tag(wheel: Path) -> str:
    """The most portable platform tag ``auditwheel show`` finds the wheel consistent with."""
    proc = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", "--json", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise WheelError(f"auditwheel show failed:\n{proc.stdout}{proc.stderr}")
    report = json.loads(proc.stdout)
    if report["external_libs"]:
        raise WheelError(f"links libraries outside the policy: {report['external_libs']}")
    return report["overall_tag"]


def check(wheel: Path, tag: str | None) -> str:
    """Check one wheel; returns the platform tag it was checked against."""
    python, abi, platforms = platform_tags(wheel)
    if (python, abi) != ("cp311", "abi3"):
        raise WheelError(f"{wheel.name}: tagged {python}-{abi}, not cp311-abi3 (one wheel, 3.11+)")
    with zipfile.ZipFile(wheel) as zf:
        module = extension(zf)
        data = zf.read(module)
    linux = any(p.startswith(("manylinux", "musllinux", "linux")) for p in platforms)
    if not linux:
        return ".".join(sorted(platforms))
    if tag is None:
        raise WheelError(f"{wheel.name}: a Linux wheel needs --tag")
    if tag not in platforms:
        raise WheelError(f"{wheel.name}: does not claim {tag}")
    found = auditwheel_tag(wheel)
    if found != tag:
        raise WheelError(f"{wheel.name}: auditwheel says {found}, not {tag}")
    check_elf_stripped(data, module)
    return found


def main(argv: list[str] | None = None) -> int:
    """Check every wheel named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", help="the portable platform tag a Linux wheel must have")
    parser.add_argument("wheels", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for wheel in args.wheels:
        try:
            tag = check(wheel, args.tag)
        except WheelError as err:
            print(f"check_wheel: {err}", file=sys.stderr)
            return 1
        size = wheel.stat().st_size / 1024
        print(f"check_wheel: ok  {wheel.name}  {size:,.0f} KiB  {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
