#!/usr/bin/env bash
# Builds Dovecot's imaptest (the IMAP conformance and stress tester; MIT licence, see COPYING.MIT in
# the tarball) from the release-2.3 sources kept beside this script, against Debian's dovecot-dev.
#
#   tests/imaptest/build.sh [OUT_DIR]      (default OUT_DIR: target/imaptest; as root on Debian)
#
# Prints the path of the built binary last. Reuses an earlier build in OUT_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-target/imaptest}" && cd "${1:-target/imaptest}" && pwd)
if [[ -x $out/src/src/imaptest ]]; then echo "$out/src/src/imaptest"; exit 0; fi
need=()
[[ -f /usr/lib/dovecot/dovecot-config ]] || need+=(dovecot-dev)
for t in autoconf automake libtool pkg-config make gcc; do command -v "$t" >/dev/null || need+=("$t"); done
[[ -f /usr/include/zlib.h ]] || need+=(zlib1g-dev)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
rm -rf "$out/src" && mkdir -p "$out/src"
tar -xzf "$here/imaptest-release-2.3.tar.gz" -C "$out/src"
# Debian 12's Dovecot (2.3.19) gives imap_parser_create() a fourth argument.
(cd "$out/src" && patch -p1 -s <"$here/dovecot-2.3.19.patch")
(cd "$out/src" && ./autogen.sh >"$out/autogen.log" 2>&1 && ./configure --with-dovecot=/usr/lib/dovecot >"$out/configure.log" 2>&1 &&
  make -j"$(nproc)" >"$out/make.log" 2>&1) || { echo "imaptest build failed: see $out/*.log" >&2; exit 1; }
echo "$out/src/src/imaptest"
