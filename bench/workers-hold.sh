#!/usr/bin/env bash
# 100,000 held connections on one machine: `aionet serve --workers N` against
# `aionet bench --mode hold --processes K`, with the server group's RSS measured before and
# during the hold and its merged metrics read after. Loopback only; every step is bounded.
#
#   bench/workers-hold.sh                        # net transport, 6 workers, 100,000 connections
#   TRANSPORT=native bench/workers-hold.sh
#   NODE="npx -y -p node@24 -- node" bench/workers-hold.sh    # Node 24: reuseport mode
#
# Knobs (env): NODE (node), BENCH_NODE (NODE), TRANSPORT (net), WORKERS (6), CONNS (100000), PROCS (6), RATE (connects per
# second and bench process, 2500), SOURCES (20), HOLD (seconds held, 10), TIMEOUT (connect and reply timeout,
# seconds, 10), PORT (7300), METRICS_PORT (7301).
set -euo pipefail
cd "$(dirname "$0")/.."
TRANSPORT=${TRANSPORT:-net}
WORKERS=${WORKERS:-6}
CONNS=${CONNS:-100000}
PROCS=${PROCS:-6}
RATE=${RATE:-2500}
HOLD=${HOLD:-10}
PORT=${PORT:-7300}
METRICS_PORT=${METRICS_PORT:-7301}
NODE=${NODE:-node}
# The Node that runs the bench (default: the server's).
BENCH_NODE=${BENCH_NODE:-$NODE}
# Source addresses 127.0.0.1..N. A bind() before connect() takes a port no other socket on that
# address holds, and the kernel's search for one slows down as the address fills up: 20
# addresses keep each one at 5,000 connections, far from full.
SOURCES=${SOURCES:-20}
OUT=$(mktemp -d /tmp/aionet-workers-hold.XXXXXX)

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# node $($NODE --version), transport $TRANSPORT, $WORKERS workers, $CONNS connections, $PROCS bench processes"
echo "# ulimit -n $(ulimit -n); somaxconn $(sysctl -n net.core.somaxconn); ports $(sysctl -n net.ipv4.ip_local_port_range | tr '\t' -)"

# Sum of VmRSS (KiB) of the given pids.
rss_kib() {
  local total=0 pid kib
  for pid in "$@"; do
    kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

$NODE bin/aionet.js serve --workers "$WORKERS" --transport "$TRANSPORT" --host 127.0.0.1 \
  --port "$PORT" --quiet --metrics-port "$METRICS_PORT" --drain-timeout 30 \
  >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVER=$!
trap 'kill -KILL $SERVER ${PRIMARY:-} 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '^workers: pids' "$OUT/serve.out" 2>/dev/null && break
  sleep 0.1
done
cat "$OUT/serve.out"
read -r -a PIDS <<<"$(sed -n 's/^workers: pids \([0-9, ]*\);.*/\1/p' "$OUT/serve.out" | tr -d ',')"
# The primary is the workers' parent (with NODE=npx…, $SERVER is npx, not the primary).
PRIMARY=$(ps -o ppid= -p "${PIDS[0]}" | tr -d ' ')
GROUP=("$PRIMARY" "${PIDS[@]}")
sleep 1
BASE=$(rss_kib "${GROUP[@]}")
echo "rss before: $BASE KiB (primary + ${#PIDS[@]} workers)"

$BENCH_NODE dist/cli/bench-entry.js --mode hold --port "$PORT" --connections "$CONNS" \
  --processes "$PROCS" --connect-rate "$RATE" --duration "$HOLD" --timeout "${TIMEOUT:-10}" --sources "$SOURCES" --json -q \
  >"$OUT/bench.json" 2>"$OUT/bench.err" &
BENCH=$!
# Sample the group's RSS once a second while the bench runs and keep the largest; and each
# worker's open descriptors when their sum was largest (how evenly connections were spread).
PEAK=0
SPREAD=""
MOST=0
while kill -0 "$BENCH" 2>/dev/null; do
  NOW=$(rss_kib "${GROUP[@]}")
  [ "$NOW" -gt "$PEAK" ] && PEAK=$NOW
  FDS="" TOTAL=0
  for pid in "${PIDS[@]}"; do
    n=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    FDS="$FDS $n" TOTAL=$((TOTAL + n))
  done
  [ "$TOTAL" -gt "$MOST" ] && MOST=$TOTAL SPREAD=$FDS
  sleep 1
done
echo "open descriptors per worker when most were open:$SPREAD"

wait "$BENCH" || echo "bench exit status $?"
cat "$OUT/bench.json"
sleep 1
METRICS=$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^aionet_(connections_(accepted|active|closed)|errors)' || true)
echo "$METRICS"
kill -TERM "$PRIMARY"
wait "$SERVER" || true
tail -1 "$OUT/serve.out"

if [ ! -s "$OUT/bench.json" ]; then
  echo "RESULT none: the bench gave no result ($(tail -1 "$OUT/bench.err"))"
  exit 1
fi
node -e '
  const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const [base, peak, conns] = process.argv.slice(2).map(Number);
  const perConn = ((peak - base) * 1024) / Math.max(1, b.held);
  console.log(`RESULT connections=${conns} connected=${b.connected} held=${b.held} ` +
    `errors=${b.errors} connect_s=${b.connect_s} connect_rate=${Math.round(b.connected / b.connect_s)} ` +
    `verify_s=${b.verify_s} rss_before_mib=${(base / 1024).toFixed(1)} rss_peak_mib=${(peak / 1024).toFixed(1)} ` +
    `bytes_per_conn=${Math.round(perConn)}`);
' "$OUT/bench.json" "$BASE" "$PEAK" "$CONNS"
echo "# raw output in $OUT"
