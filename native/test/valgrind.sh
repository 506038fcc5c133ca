#!/usr/bin/env bash
# Runs native/test/workload.mjs under valgrind memcheck and fails on any error, and on any leak
# whose stack passes through the addon (Node and V8 keep blocks to the end that memcheck calls
# possibly lost, not ours to judge). Needs the package built (npm ci) and valgrind installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Twice: reads and batched replies through io_uring (the default where the kernel allows it),
# then with AIONET_IO_URING=0, one system call per read and send.
for uring in 1 0; do
  echo "== AIONET_IO_URING=$uring"
  AIONET_IO_URING=$uring valgrind --tool=memcheck --leak-check=full \
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect \
    --num-callers=30 --log-file="$log" node native/test/workload.mjs
  # Every error or leak record is a block of lines starting with "==pid== " and ending in a
  # blank "==pid== " line; keep those whose stack names the addon.
  ours=$(awk '/^==[0-9]+== $/ { if (block ~ /aionet\.node|engine_|poller_|batch_io|ring_|addon\.c|engine\.c/) print block; block=""; next }
              { block = block $0 "\n" }' "$log")
  grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$log" | sed 's/^==[0-9]*== //'
  if [ -n "$ours" ]; then
    echo "memcheck found errors or leaks in the native addon:"
    echo "$ours"
    exit 1
  fi
  # Errors count wherever they show: bytes the engine hands over undefined (a read through the
  # ring that memcheck was not told of) fault in V8's code, far from the addon.
  if ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then
    echo "memcheck found errors:"
    cat "$log"
    exit 1
  fi
done
echo "memcheck: no errors and no leaks in the native addon"
