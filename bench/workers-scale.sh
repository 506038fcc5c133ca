#!/usr/bin/env bash
# Throughput of one process against worker groups of 1 and 2, at 1,000 connections, measured
# with the C load generator (shared/bench's loadgen) in pingpong mode. Configurations are
# interleaved within each round so machine noise hits them alike; the medians are printed.
#
#   cp -r ../shared/bench /tmp/aionet-bench && /tmp/aionet-bench/build.sh     # once
#   bench/workers-scale.sh                          # native and net, 3 rounds
#
# Knobs (env): TRANSPORTS ("native net"), ROUNDS (3), CONNS (1000), WARMUP (2), DURATION (5),
# PORT (7320), LOADGEN (/tmp/aionet-bench/loadgen), NODE (node).
set -euo pipefail
cd "$(dirname "$0")/.."
TRANSPORTS=${TRANSPORTS:-native net}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-1000}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-5}
PORT=${PORT:-7320}
LOADGEN=${LOADGEN:-/tmp/aionet-bench/loadgen}
NODE=${NODE:-node}
RESULTS=$(mktemp /tmp/aionet-workers-scale.XXXXXX)
[ -x "$LOADGEN" ] || { echo "no $LOADGEN: build shared/bench first (see the top of this file)"; exit 2; }

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, node $($NODE --version), $CONNS connections, ${DURATION}s after ${WARMUP}s"

# Runs one server configuration ("single" or a worker count) and prints msgs_per_s.
measure() {
  local transport=$1 workers=$2 args=() pid
  [ "$workers" = single ] || args=(--workers "$workers")
  $NODE bin/aionet.js serve --quiet --host 127.0.0.1 --port "$PORT" --transport "$transport" \
    "${args[@]}" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
  done
  sleep 0.5
  "$LOADGEN" pingpong --port "$PORT" -c "$CONNS" -w "$WARMUP" -d "$DURATION" 2>/dev/null |
    sed -n 's/^RESULT .* msgs_per_s=\([0-9]*\) .*other_cpu_pct=\([0-9.]*\).*/\1 \2/p'
  kill -TERM "$pid"
  wait "$pid" || true
}

for round in $(seq 1 "$ROUNDS"); do
  for transport in $TRANSPORTS; do
    for workers in single 1 2; do
      read -r rate other <<<"$(measure "$transport" "$workers")"
      echo "$transport $workers $rate" >>"$RESULTS"
      echo "round $round: $transport ${workers} -> $rate msg/s (load $(cut -d' ' -f1 /proc/loadavg), other processes ${other}% CPU)"
    done
  done
done

echo "# medians over $ROUNDS rounds (msg/s)"
for transport in $TRANSPORTS; do
  for workers in single 1 2; do
    median=$(awk -v t="$transport" -v w="$workers" '$1 == t && $2 == w {print $3}' "$RESULTS" |
      sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    echo "$transport $workers $median"
  done
done
