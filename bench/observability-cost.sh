#!/usr/bin/env bash
# What counting, metrics and logging cost `aionet serve`: the chapter's server under the shared
# loadgen's pingpong, in several configurations, alternating, several rounds; prints medians.
#
#   bench/observability-cost.sh                       # REPS=5 C=100 TRANSPORT=auto
#   REPS=7 TRANSPORT=net CONFIGS="plain metrics" bench/observability-cost.sh
#
# Configurations (CONFIGS, space-separated):
#   plain    serve --quiet                        (counters only: they are always on)
#   metrics  serve --quiet --metrics-port P, and GET /metrics once a second during the run
#   json     serve --quiet --log-format json      (pino loaded; per-event lines off)
#   warn     serve --log-level warn               (text; per-event lines off by level)
#   before   serve --quiet of another checkout (BEFORE_ROOT), e.g. one from before the
#            observability work: git archive <commit> | tar -x -C /tmp/old, then build it there
#   churn-*  the same in churn mode (connect, one round trip, close): per-connection costs
#
# Server on CPU 0, loadgen and scraper on CPU 1; ports 7500-7599 only. Needs the shared bench
# built in /tmp/aionet-bench (cp -r /work/shared/bench /tmp/aionet-bench && .../build.sh) and
# `npm run build` (or ROOT: a built checkout to measure instead of this one, e.g. a snapshot of
# HEAD while dist/ is in flux). The machine may be shared: each row records others' CPU use.
set -u
cd "$(dirname "$0")/.."
ROOT=${ROOT:-$PWD}
BEFORE_ROOT=${BEFORE_ROOT:-}
LOADGEN=${LOADGEN:-/tmp/aionet-bench/loadgen}
REPS=${REPS:-5}
C=${C:-100}
WARM=${WARM:-2}
DUR=${DUR:-5}
TRANSPORT=${TRANSPORT:-auto}
CONFIGS=${CONFIGS:-plain metrics json warn}
OUT=${OUT:-/tmp/aionet-observability-cost.tsv}
[ -x "$LOADGEN" ] || { echo "no loadgen at $LOADGEN" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# run CONFIG SERVER_PORT METRICS_PORT -> prints "msgs_per_s server_cpu other_cpu_pct scrapes"
run() {
  local config=$1 port=$2 mport=$3 mode=pingpong extra=() root=$ROOT
  case $config in
    plain | churn-plain) extra=(--quiet) ;;
    before | churn-before) extra=(--quiet); root=$BEFORE_ROOT ;;
    metrics | churn-metrics) extra=(--quiet --metrics-port "$mport") ;;
    json | churn-json) extra=(--quiet --log-format json) ;;
    warn | churn-warn) extra=(--log-level warn) ;;
    *) echo "unknown config $config" >&2; return 1 ;;
  esac
  case $config in churn-*) mode=churn ;; esac
  port_free "$port" || { echo "port $port is taken" >&2; return 1; }
  taskset -c 0 node "$root/bin/aionet.js" serve --host 127.0.0.1 --port "$port" \
    --transport "$TRANSPORT" "${extra[@]}" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 100); do port_free "$port" || break; sleep 0.05; done
  local scraper='' scrapes=/tmp/aionet-scrapes.$$
  : >"$scrapes"
  if [ "$mport" != 0 ] && [[ $config == *metrics ]]; then
    taskset -c 1 bash -c "while sleep 1; do curl -sf http://127.0.0.1:$mport/metrics >/dev/null && echo >>$scrapes; done" &
    scraper=$!
  fi
  # A short pre-warm connection, as run_server_bench.sh does.
  taskset -c 1 "$LOADGEN" pingpong --port "$port" -c 1 -w 0 -d 1 >/dev/null 2>&1
  local args=(-c "$C")
  [ $mode = churn ] && args=(-c 64)
  local result
  result=$(taskset -c 1 "$LOADGEN" $mode --port "$port" "${args[@]}" -w "$WARM" -d "$DUR" \
    --server-pid "$server" 2>&1 | grep '^RESULT' | tail -1)
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null && wait "$scraper" 2>/dev/null
  kill -TERM "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  local rate
  rate=$(tr ' ' '\n' <<<"$result" | grep -E '^(msgs_per_s|conns_per_s)=' | head -1 | cut -d= -f2)
  echo "${rate:-0} $(field server_cpu_pct "$result") $(field other_cpu_pct "$result") $(wc -l <"$scrapes")"
  rm -f "$scrapes"
}

field() { tr ' ' '\n' <<<"$2" | grep "^$1=" | head -1 | cut -d= -f2; }

# Busy % of all CPUs over half a second, from /proc/stat.
busy_pct() {
  local a b
  a=($(head -1 /proc/stat)); sleep 0.5; b=($(head -1 /proc/stat))
  local idle=$(((b[4] + b[5]) - (a[4] + a[5]))) total=0
  for k in 1 2 3 4 5 6 7 8; do total=$((total + b[k] - a[k])); done
  echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# Waits (at most QUIET_WAIT seconds) until others leave the machine quiet enough to measure.
wait_quiet() {
  local deadline=$((SECONDS + ${QUIET_WAIT:-30}))
  while [ "$(busy_pct)" -gt "${QUIET_MAX:-25}" ] && [ $SECONDS -lt $deadline ]; do sleep 1; done
}

echo -e "round\tconfig\ttransport\trate\tserver_cpu_pct\tcpu_us_per_op\tother_cpu_pct\tscrapes\tload1" >"$OUT"
i=0
for round in $(seq "$REPS"); do
  # Alternate the order each round so drift in the machine's load hits every config alike.
  list=($CONFIGS)
  if [ $((round % 2)) = 0 ]; then
    reversed=()
    for ((k = ${#list[@]} - 1; k >= 0; k--)); do reversed+=("${list[k]}"); done
    list=("${reversed[@]}")
  fi
  for config in "${list[@]}"; do
    port=$((7500 + i % 50)); mport=$((7550 + i % 50)); i=$((i + 1))
    wait_quiet
    read -r rate cpu other scrapes < <(run "$config" "$port" "$mport")
    load=$(cut -d' ' -f1 /proc/loadavg)
    # Server CPU per message (or connection): less sensitive than the rate to others' load.
    per=$(awk -v c="$cpu" -v r="$rate" 'BEGIN { printf "%.2f", (r > 0 ? c * 1e4 / r : 0) }')
    echo -e "$round\t$config\t$TRANSPORT\t$rate\t$cpu\t$per\t$other\t$scrapes\t$load" | tee -a "$OUT"
  done
done

python3 - "$OUT" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
configs = list(dict.fromkeys(r['config'] for r in rows))
def median(c, key):
    return statistics.median(float(r[key]) for r in rows if r['config'] == c)
def base_of(c):
    return 'churn-plain' if c.startswith('churn') else 'plain'
print('\nconfig\tmedian rate/s\tvs plain\tmedian CPU us/op\tvs plain\trates')
for c in configs:
    rate, cpu = median(c, 'rate'), median(c, 'cpu_us_per_op')
    b = base_of(c)
    rel = lambda v, key: f"{(v / median(b, key) - 1) * 100:+.1f}%" if b in configs else ''
    rates = ' '.join(f"{float(r['rate']):.0f}" for r in rows if r['config'] == c)
    print(f"{c}\t{rate:.0f}\t{rel(rate, 'rate')}\t{cpu:.2f}\t{rel(cpu, 'cpu_us_per_op')}\t{rates}")
EOF
