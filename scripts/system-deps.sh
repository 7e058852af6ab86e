#!/usr/bin/env bash
# Installs the Debian libraries the Python wheels need at run time, when they are missing.
# pango: WeasyPrint renders the PPS/FRCP PDF; harfbuzz-subset: WeasyPrint subsets the embedded fonts with it (without
# it, fontTools does, in Python: ~1 s of CPU per PDF, most of a recette's time); libdmtx: tests decode the INS
# datamatrix back.
set -euo pipefail
missing=()
ldconfig -p | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p | grep -q 'libharfbuzz-subset.so' || missing+=(libharfbuzz-subset0)
ldconfig -p | grep -q 'libdmtx.so' || missing+=(libdmtx0b)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: missing Debian packages: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
  exit 2
fi
echo "system-deps: installing ${missing[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
