#!/usr/bin/env bash
# `make bench`: every module's benchmark script (scripts/bench-*.sh BUILD_DIR), in turn.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
rc=0
for s in scripts/bench-*.sh; do
  [ -f "$s" ] || continue
  echo "== $s" >&2
  bash "$s" "$BUILD" || rc=1
done
exit $rc
