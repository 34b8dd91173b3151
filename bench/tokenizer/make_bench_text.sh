#!/usr/bin/env bash
# make_bench_text.sh OUT [MB] — a large plain-English + code text from files every
# Debian machine has: license texts and package copyright files (English), Python's
# standard library and C headers (code with English comments). Sorted file lists,
# so the same machine always gives the same text.
set -eu  # no pipefail: head closes the pipes early on purpose
OUT=$1
MB=${2:-8}
half=$((MB * 1024 * 1024 / 2))
{
  { cat /usr/share/common-licenses/*; find /usr/share/doc -name copyright | LC_ALL=C sort | xargs cat; } 2>/dev/null | head -c "$half"
  { find /usr/lib/python3* -name '*.py' -not -path '*/test/*' | LC_ALL=C sort | xargs cat;
    find /usr/include -maxdepth 1 -name '*.h' | LC_ALL=C sort | xargs cat; } 2>/dev/null | head -c "$half"
} > "$OUT.tmp"
# keep valid UTF-8 only (a few Debian files are Latin-1)
iconv -f UTF-8 -t UTF-8 -c "$OUT.tmp" > "$OUT"
rm -f "$OUT.tmp"
