#!/usr/bin/env bash
# Runs native/test/workload.mjs under valgrind memcheck and fails on any error or leak whose
# stack passes through the addon (Node and V8 themselves are noisy under valgrind, and not ours
# to judge). Needs the package built (npm ci) and valgrind installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect --num-callers=30 --log-file="$log" \
  node native/test/workload.mjs
# Every error or leak record is a block of lines starting with "==pid== " and ending in a blank
# "==pid== " line; keep those whose stack names the addon.
ours=$(awk '/^==[0-9]+== $/ { if (block ~ /aionet\.node|engine_|poller_|addon\.c|engine\.c/) print block; block=""; next }
            { block = block $0 "\n" }' "$log")
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$log" | sed 's/^==[0-9]*== //'
if [ -n "$ours" ]; then
  echo "memcheck found errors or leaks in the native addon:"
  echo "$ours"
  exit 1
fi
echo "memcheck: no errors and no leaks in the native addon"
