#!/usr/bin/env bash
# Build the portable Linux wheels and check each one's platform tag.
#
#   ci/build-wheels.sh [TARGET...]     default: every target below
#   ci/build-wheels.sh --list-targets  print the targets, one a line
#
# `make wheels` and the Linux jobs of .github/workflows/release.yml both run this script, so
# a wheel built locally and a released one come from the same commands.
#
# Every wheel is linked by zig against an old C library, whatever the build machine has:
# glibc 2.17 (manylinux2014) for the -gnu targets, musl 1.2 for the -musl ones (whose
# extension ci/musl_libc_name.py then points at musl's C library by its musllinux name).
# Then ci/check_wheel.py asks auditwheel for the tag the wheel really supports and fails
# unless it is the one the file name claims.
#
# The Rust standard library for TARGET comes from rustup when its target is installed
# (`rustup target add TARGET`, as the release workflow does). A machine whose rustup cannot
# download targets can still build: the standard library is then compiled from source, by
# cargo's -Zbuild-std, with Debian's rustc and its library sources (packages rustc-web and
# rust-web-src on Debian 12), which apt downloads and this script unpacks under target/.
#
# Environment: PYTHON, a Python with ci/wheel-requirements.txt installed (default .venv's);
# OUT, the directory for the wheels (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(
    x86_64-unknown-linux-gnu
    aarch64-unknown-linux-gnu
    x86_64-unknown-linux-musl
    aarch64-unknown-linux-musl
)

if [[ "${1:-}" == "--list-targets" ]]; then
    printf '%s\n' "${ALL_TARGETS[@]}"
    exit 0
fi

PYTHON="${PYTHON:-.venv/bin/python}"
OUT="${OUT:-dist}"
# maturin finds zig as `python3 -m ziglang` in the environment it runs from
PATH="$(cd "$(dirname "$PYTHON")" && pwd):$PATH"
export PATH

# The oldest rustc the workspace allows (Cargo.toml: rust-version).
MIN_RUST=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
# Debian's rustc is unpacked here rather than installed: a system-wide rustc and cargo would
# put a Rust toolchain on every PATH, the very thing the wheel tests make sure is absent.
DEB_RUSTC_DIR=target/debian-rustc

version_at_least() { # version_at_least HAVE WANT
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

# The packages of Debian's newest rustc and its library sources, and the shared libraries
# it runs on (the compiler's own and LLVM's), one a line.
debian_rustc_packages() {
    local top src
    if apt-cache show rustc-web >/dev/null 2>&1; then
        top=rustc-web src=rust-web-src # Debian 12: a current rustc beside its old default
    else
        top=rustc src=rust-src
    fi
    local todo=("$top") seen=("$top" "$src") pkg dep
    while [[ ${#todo[@]} -gt 0 ]]; do
        pkg=${todo[0]}
        todo=("${todo[@]:1}")
        for dep in $(apt-cache depends --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances "$pkg" |
            awk '$1 == "Depends:" && $2 ~ /^lib(std-rust|llvm)/ {print $2}'); do
            if [[ " ${seen[*]} " != *" $dep "* ]]; then
                seen+=("$dep")
                todo+=("$dep")
            fi
        done
    done
    printf '%s\n' "${seen[@]}"
}

# Unpacks Debian's rustc into $DEB_RUSTC_DIR and writes its launcher, $DEB_RUSTC_DIR/rustc.
unpack_debian_rustc() {
    command -v apt-get >/dev/null && command -v dpkg >/dev/null || return 1
    if ! apt-cache show rustc >/dev/null 2>&1 && [[ $EUID -eq 0 ]]; then
        apt-get update -q >&2
    fi
    local pkgs deb root libs
    mapfile -t pkgs < <(debian_rustc_packages)
    echo "build-wheels: unpacking Debian's ${pkgs[*]} into $DEB_RUSTC_DIR" >&2
    rm -rf "$DEB_RUSTC_DIR"
    mkdir -p "$DEB_RUSTC_DIR/debs"
    (cd "$DEB_RUSTC_DIR/debs" && apt-get download -q "${pkgs[@]}" >&2) || return 1
    for deb in "$DEB_RUSTC_DIR"/debs/*.deb; do
        dpkg -x "$deb" "$DEB_RUSTC_DIR/root"
    done
    rm -rf "$DEB_RUSTC_DIR/debs"
    root=$(cd "$DEB_RUSTC_DIR/root" && pwd)
    libs=$(echo "$root"/usr/lib/*-linux-gnu)
    {
        echo '#!/bin/sh'
        echo "LD_LIBRARY_PATH=\"$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\" \\"
        echo "    exec \"$root/usr/bin/rustc\" \"\$@\""
    } >"$DEB_RUSTC_DIR/rustc"
    chmod +x "$DEB_RUSTC_DIR/rustc"
}

# Prints the launcher of a Debian rustc that can build any target's standard library.
debian_rustc() {
    local launcher=$DEB_RUSTC_DIR/rustc v
    if [[ ! -x $launcher ]] || ! "$launcher" --version >/dev/null 2>&1; then
        unpack_debian_rustc || return 1
    fi
    [[ -d "$("$launcher" --print sysroot)/lib/rustlib/src/rust/library/std" ]] || return 1
    v=$("$launcher" --version | awk '{print $2}')
    version_at_least "$v" "$MIN_RUST" || return 1
    echo "$(cd "$(dirname "$launcher")" && pwd)/rustc"
}

# Sets CARGO_STD_ARGS and STD_ENV for TARGET.
choose_std() {
    local target=$1 sysroot launcher
    CARGO_STD_ARGS=()
    STD_ENV=()
    sysroot=$(rustc --print sysroot)
    if [[ -d "$sysroot/lib/rustlib/$target/lib" ]]; then
        return 0
    fi
    if ! launcher=$(debian_rustc); then
        cat >&2 <<EOF
build-wheels: no Rust standard library for $target.
  Either:  rustup target add $target
  or, on Debian or Ubuntu, let apt download Debian's rustc (>= $MIN_RUST) and its library
  sources (rustc-web and rust-web-src on Debian 12, rustc and rust-src elsewhere); this
  script unpacks them into $DEB_RUSTC_DIR.
EOF
        exit 1
    fi
    echo "build-wheels: $target: standard library built from source by $("$launcher" --version)" >&2
    CARGO_STD_ARGS=(-Zbuild-std=std,panic_unwind)
    STD_ENV=(RUSTC="$launcher" RUSTC_BOOTSTRAP=1)
}

build_one() {
    local target=$1 arch=${1%%-*} compat tag
    case "$target" in
    *-linux-gnu)
        compat=manylinux2014
        tag=manylinux_2_17_$arch
        ;;
    *-linux-musl)
        compat=musllinux_1_2
        tag=musllinux_1_2_$arch
        ;;
    *)
        echo "build-wheels: not a Linux target: $target" >&2
        exit 2
        ;;
    esac
    choose_std "$target"
    rm -f "$OUT"/logflow-*"$tag"*.whl
    echo "build-wheels: $target -> $tag" >&2
    env "${STD_ENV[@]}" "$PYTHON" -m maturin build --release --zig --compatibility "$compat" \
        --target "$target" -o "$OUT" "${CARGO_STD_ARGS[@]}"
    shopt -s nullglob
    local wheels=("$OUT"/logflow-*"$tag"*.whl)
    shopt -u nullglob
    if [[ ${#wheels[@]} -ne 1 ]]; then
        echo "build-wheels: expected one $tag wheel in $OUT, found ${#wheels[@]}" >&2
        exit 1
    fi
    if [[ $target == *-musl ]]; then
        "$PYTHON" ci/musl_libc_name.py "${wheels[0]}"
    fi
    "$PYTHON" ci/check_wheel.py --tag "$tag" "${wheels[0]}"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
mkdir -p "$OUT"
for target in "${targets[@]}"; do
    build_one "$target"
done
