#!/usr/bin/env bash
# Makes the Windows package of Mailroom Administrator and mailroomctl, on Linux:
#   target/windows-package/mailroom-windows-VERSION.zip        the two .exe files and README.txt
#   target/windows-package/mailroom-admin-setup-VERSION.exe    an installer (NSIS): Program Files,
#                                                              a Start-menu shortcut, an uninstaller
#
#   assets/windows/package.sh [--debug] [--no-build] [--fast] [--target-dir DIR] [--out DIR]
#
# --debug packs the debug build; --no-build packs what is built already; --fast
# compresses little (the tests' packages).
#
# Needs the Rust target (rustup target add x86_64-pc-windows-gnu), mingw-w64
# (gcc-mingw-w64-x86-64), zip and NSIS (nsis); tests/setup installs them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
profile=release build=1 fast=0 target_dir=${CARGO_TARGET_DIR:-$root/target} out=
while (($#)); do
  case $1 in
    --debug) profile=debug ;;
    --no-build) build=0 ;;
    --fast) fast=1 ;;
    --target-dir) target_dir=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--debug] [--no-build] [--fast] [--target-dir DIR] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
out=$(realpath -m "${out:-$target_dir/windows-package}")
target=x86_64-pc-windows-gnu
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
if ((build)); then
  flags=(--target "$target" -p mailroom-admin -p mailroom-client --bins)
  [[ $profile == release ]] && flags+=(--release)
  (cd "$root" && CARGO_TARGET_DIR=$target_dir cargo build "${flags[@]}")
fi
bin=$target_dir/$target/$profile
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin/mailroom-admin.exe" "$bin/mailroomctl.exe" "$stage/"
# Without their symbols (a fifth of the size in release, a tenth in debug).
x86_64-w64-mingw32-strip "$stage/mailroom-admin.exe" "$stage/mailroomctl.exe"
# Windows' Notepad reads CRLF lines.
sed 's/$/\r/' "$root/assets/windows/README.txt" >"$stage/README.txt"
mkdir -p "$out"
zip_file=$out/mailroom-windows-$version.zip
rm -f "$zip_file"
level=-9 compressor=()
((fast)) && level=-1 compressor=(-DFAST)
(cd "$stage" && zip -q "$level" "$zip_file" mailroom-admin.exe mailroomctl.exe README.txt)
makensis -V2 "${compressor[@]}" -DVERSION="$version" -DSOURCE="$stage" \
  -DOUTFILE="$out/mailroom-admin-setup-$version.exe" "$root/assets/windows/mailroom-admin.nsi"
echo "$zip_file"
echo "$out/mailroom-admin-setup-$version.exe"
