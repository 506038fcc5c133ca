#!/usr/bin/env bash
# The cost of TLS and of the PROXY protocol stage, on the net transport, at 100 connections:
#  - TLS msgs/s (pingpong) and full handshakes/s, against the same Node client over plain TCP;
#  - PROXY parsing: the C load generator sends the very same bytes (a v1 header, then hello) to
#    a plain server and to a --proxy-protocol one: pingpong (the header is parsed once per
#    connection) and churn (once per message: connect, header + hello, reply, close).
# Server pinned to CPU 0, load to CPU 1, interleaved rounds, medians (and, for PROXY, the
# median of the per-round proxy/plain ratios). Loopback only, port 7650.
# Each figure comes twice: per second, and per second of server CPU (`*_cpu`), which holds up
# when other work shares the machine.
#
#   bash bench/tls-proxy.sh            # ROUNDS=3 DURATION=5 PARTS="tls proxy" by default
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
PORT=${PORT:-7650}
PARTS=${PARTS:-tls proxy} # either or both
LOADGEN=${LOADGEN:-/tmp/aionet-bench/loadgen}
if [ ! -x "$LOADGEN" ]; then
  cp -r ../shared/bench /tmp/aionet-bench 2>/dev/null || cp -r /work/shared/bench /tmp/aionet-bench
  /tmp/aionet-bench/build.sh >/dev/null
fi
npm run build >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
HEADER='PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\nhello\n'

server_pid=""
start_server() { # start_server ARGS...: the chapter server on $PORT, quiet, net transport
  taskset -c 0 node bin/aionet.js serve --quiet --host 127.0.0.1 --port "$PORT" --transport net \
    --log-level error "$@" >/dev/null 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return; fi
    sleep 0.05
  done
  echo "server did not start" >&2
  exit 1
}
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}
field() { # field KEY...: the value of the first KEY=value on stdin's line
  awk -v keys="$*" 'BEGIN { n = split(keys, k, " ") }
    { for (i = 1; i <= NF; i++) for (j = 1; j <= n; j++) if (index($i, k[j] "=") == 1) {
        print substr($i, length(k[j]) + 2); exit } }'
}
# record NAME LINE: the rate, and the rate per server CPU second.
record() {
  local name=$1 line=$2 rate cpu
  rate=$(echo "$line" | field rate msgs_per_s conns_per_s)
  cpu=$(echo "$line" | field per_cpu_s)
  if [ -z "$cpu" ]; then
    local pct
    pct=$(echo "$line" | field server_cpu_pct)
    cpu=$(awk -v r="$rate" -v p="$pct" 'BEGIN { print (p > 0) ? int(r * 100 / p) : 0 }')
  fi
  printf '%s\t%s\n%s_cpu\t%s\n' "$name" "$rate" "$name" "$cpu" >>"$results"
  printf '%s\t%s\t%s\n' "$round" "$name" "$cpu" >>"$pairs"
}

results="$dir/results.tsv"
pairs="$dir/pairs.tsv"
: >"$results"
: >"$pairs"
for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  if [[ " $PARTS " == *" tls "* ]]; then
    start_server --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem"
    for mode in msgs handshakes; do
      record "tls_$mode" "$(taskset -c 1 npx tsx bench/tls-load.ts "$mode" --port "$PORT" -c 100 -w 2 \
        -d "$DURATION" --ca "$dir/cert.pem" --server-pid "$server_pid")"
    done
    stop_server
    start_server
    for mode in msgs handshakes; do
      record "plain_$mode" "$(taskset -c 1 npx tsx bench/tls-load.ts "$mode" --port "$PORT" -c 100 -w 2 \
        -d "$DURATION" --plain --server-pid "$server_pid")"
    done
    stop_server
  fi
  if [[ " $PARTS " == *" proxy "* ]]; then
    # A fresh server of each kind, the same history, the order swapped every round: the pair
    # differs only in the PROXY stage.
    kinds="plain proxy"
    [ $((round % 2)) -eq 0 ] && kinds="proxy plain"
    for kind in $kinds; do
      if [ "$kind" = proxy ]; then start_server --proxy-protocol --proxy-trusted 127.0.0.0/8; else start_server; fi
      record "${kind}_pingpong" "$(taskset -c 1 "$LOADGEN" pingpong --port "$PORT" -c 100 -w 2 \
        -d "$DURATION" --msg "$HEADER" --server-pid "$server_pid" | grep '^RESULT')"
      record "${kind}_churn" "$(taskset -c 1 "$LOADGEN" churn --port "$PORT" -c 64 -w 1 \
        -d "$DURATION" --msg "$HEADER" --server-pid "$server_pid" | grep '^RESULT')"
      stop_server
    done
  fi
done
echo "measurement	median	runs"
for key in $(cut -f1 "$results" | sort -u); do
  runs=$(awk -F'\t' -v k="$key" '$1 == k { print $2 }' "$results" | sort -n)
  median=$(echo "$runs" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  printf '%s\t%s\t%s\n' "$key" "$median" "$(echo $runs)"
done
# PROXY against plain, paired within each round (the same minute of a shared machine): the
# ratio of their rates per server CPU second, and its median.
for kind in pingpong churn; do
  ratios=$(awk -F'\t' -v k="$kind" '
    $2 == "plain_" k { plain[$1] = $3 } $2 == "proxy_" k { proxy[$1] = $3 }
    END { for (r in proxy) if (plain[r] > 0) printf "%.3f\n", proxy[r] / plain[r] }' "$pairs" | sort -n)
  median=$(echo "$ratios" | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  printf 'proxy/plain %s per CPU second\t%s\t%s\n' "$kind" "$median" "$(echo $ratios)"
done
