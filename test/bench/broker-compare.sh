#!/usr/bin/env bash
# `npm run bench`: Runnel against the reference broker (librdkafka's mock cluster) in one run, side by
# side, with the load generator of ../shared/perf (librdkafka, C). Not a test; needs ../shared and the
# Debian packages librdkafka-dev and gcc. Prints compare.sh's table: <scenario> <metric> <A> <B> <unit> <B/A> ...
# Knobs: ROUNDS (3), SCENARIOS ("produce-100 produce-1k consume-100 consume-1k latency"), RUNNEL_SET
# (extra --set flags for Runnel, e.g. "flush.messages=1"), FETCH_WAIT_MS (client default 500).
# Each round also measures Node's own ceilings with no Kafka logic (../shared/perf/node/ceiling.mjs against tcpblast,
# CEILING_MIB each, default 1024): socket->file (fs.writev batches) and file->socket (1 MiB fs.read -> socket.write),
# printed as scenario "node-ceiling", with the ratios produce-1k/socket->file and consume-1k/file->socket (issue #16).
# CEILING=0 skips them.
# Each run's topics are created first, on both brokers alike, by a 1-message produce (loadgen; auto-creation,
# num.partitions=4 here, the mock's default 4 there): left to the measured run, Runnel's would include librdkafka's
# ~1 s wait after LEADER_NOT_AVAILABLE (as Kafka answers the Metadata request that creates a topic), which the mock,
# answering a new topic at once, never pays (issue #16; bench:security creates its topics first for the same
# reason). AUTO_CREATE=1 leaves them to the measured runs as before.
# Then the cluster mode (test/bench/cluster.bench.ts; needs etcd on PATH): produce-1k acks=all on RF 3 topics of a
# 3-node startCluster() against acks=1 on this single node, and the failover times after kill -9 and SIGTERM of
# a leader. Knobs: CLUSTER (1; 0 skips it), CLUSTER_COUNT (200000), CLUSTER_SESSION_MS (3000), FAILOVER_ROUNDS (2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED_DIR:-$root/../shared} # SHARED_DIR: where ../shared is, from a checkout elsewhere (a worktree)
perf="$shared/perf"
mock_src="$shared/mock/mockcluster.c"
[ -d "$perf" ] || { echo "bench: $perf not found (the benchmark needs ../shared/perf)" >&2; exit 2; }
bin=${BIN:-/tmp/perf-bin}
[ -x "$bin/loadgen" ] && [ -x "$bin/lat" ] || "$perf/build-loadgen.sh" "$bin" >&2
[ -x /tmp/mockcluster ] || gcc -O2 -o /tmp/mockcluster "$mock_src" -lrdkafka

work=$(mktemp -d /tmp/runnel-bench.XXXXXX)
mock_pid=""; runnel_pid=""
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  [ -n "$runnel_pid" ] && kill "$runnel_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

/tmp/mockcluster 1 "$work/mock.port" >"$work/mock.log" 2>&1 & mock_pid=$!
sets=(--set num.partitions=4)
for s in ${RUNNEL_SET:-}; do sets+=(--set "$s"); done
# The admin API (and its metrics, as in a default deployment) on a free port: 9644 may be another broker's.
node "$root/dist/broker/bin.cjs" start --host 127.0.0.1 --port 0 --admin-port 0 --data-dir "$work/data" "${sets[@]}" \
  >"$work/runnel.log" 2>&1 & runnel_pid=$!
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/runnel.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -s "$work/mock.port" ] && [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "bench: runnel did not start: $(cat "$work/runnel.log")" >&2; exit 1; }
echo "# runnel on 127.0.0.1:$port (pid $runnel_pid), mock on $(cat "$work/mock.port") (pid $mock_pid)" >&2
scenarios=${SCENARIOS:-produce-100 produce-1k consume-100 consume-1k latency}
rounds=${ROUNDS:-3}
raw="$work/raw.txt"
: >"$raw"
load() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'; }
# Free memory (MiB): once the page cache fills RAM, each new page of an append is reclaimed first, and on this VM
# (virtio-balloon free page reporting) a page freed and reported comes back cold; produce-1k's broker CPU then went
# from ~0.7-1.2 to 2-3.4 s/GB and its MB/s fell ~3x (2026-12-08, s11-produce). The mock keeps records in memory.
memfree() { awk '$1 == "MemFree:" { printf "%d", $2 / 1024 }' /proc/meminfo; }
echo "# loadavg at start $(load) (1m/5m/15m, $(nproc) cores), free memory $(memfree) MiB" >&2
# Node's ceilings: each server mode of ceiling.mjs serves one tcpblast connection and exits.
ceiling_mib=${CEILING_MIB:-1024}
[ "${CEILING:-1}" = 0 ] || dd if=/dev/zero of="$work/ceiling-src.dat" bs=1M count="$ceiling_mib" status=none
ceiling_port=$((20000 + RANDOM % 10000))
ceiling() { # MODE FILE TCPBLAST_ARGS... -> MB/s on stdout (NA on failure)
  local mode=$1 file=$2 s v; shift 2
  rm -f "$work/ceiling-dst.dat"
  node "$perf/node/ceiling.mjs" "$mode" "$ceiling_port" "$file" &
  s=$!
  v=$(timeout 120 "$bin/tcpblast" "$@" | awk '{print $2}') || true
  wait "$s" 2>/dev/null || true
  rm -f "$work/ceiling-dst.dat"
  echo "${v:-NA}"
}
# precreate BOOTSTRAP PREFIX: the topics bench.sh's scenarios of this run use, named as bench.sh names them.
precreate() {
  [ "${AUTO_CREATE:-0}" = 1 ] && return 0
  local topics=() sc t
  for sc in $scenarios; do
    case $sc in
      produce-100 | consume-100) topics+=("$2-100") ;;
      produce-1k | consume-1k) topics+=("$2-1k") ;;
      produce-100-acksall) topics+=("$2-100-all") ;;
      produce-1k-acksall) topics+=("$2-1k-all") ;;
    esac
  done
  for t in $(printf '%s\n' "${topics[@]}" | sort -u); do
    timeout 60 "$bin/loadgen" produce -b "$1" -t "$t" -n 1 -s 1 -a 1 >/dev/null 2>&1 ||
      echo "# could not create $t on $1 (the measured run will auto-create it)" >&2
  done
}
for ((r = 1; r <= rounds; r++)); do
  echo "# round $r/$rounds: mock, runnel, node ceilings (loadavg $(load), free memory $(memfree) MiB)" >&2
  precreate "$(cat "$work/mock.port")" "perf-$r-a-$$"
  precreate "127.0.0.1:$port" "perf-$r-b-$$"
  LABEL=mock BROKER_PID=$mock_pid TOPIC_PREFIX=perf-$r-a-$$ BIN="$bin" \
    "$perf/bench.sh" "$(cat "$work/mock.port")" $scenarios >>"$raw"
  LABEL=runnel BROKER_PID=$runnel_pid TOPIC_PREFIX=perf-$r-b-$$ BIN="$bin" \
    "$perf/bench.sh" "127.0.0.1:$port" $scenarios >>"$raw"
  if [ "${CEILING:-1}" != 0 ]; then
    v=$(ceiling writev "$work/ceiling-dst.dat" send "$ceiling_port" "$ceiling_mib")
    echo "node node-ceiling socket_to_file_writev $v MB/s" >>"$raw"
    cat "$work/ceiling-src.dat" >/dev/null # the file->socket figure reads from the page cache, as a fetch does
    v=$(ceiling send-file "$work/ceiling-src.dat" recv "$ceiling_port")
    echo "node node-ceiling file_to_socket $v MB/s" >>"$raw"
  fi
done
python3 "$perf/tools/summarize.py" --compare mock runnel "$raw"
if [ "${CEILING:-1}" != 0 ]; then
  grep '^node ' "$raw" | python3 "$perf/tools/summarize.py" /dev/stdin
  # Ratios to Node's ceilings (issue #16 targets: produce-1k >= 0.9x socket->file, consume-1k >= 0.7x file->socket):
  # per round (Runnel's figure over the ceiling measured right after it), then their median.
  awk '
    function med(a, k,   i, j, t) {
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    function ratio(name, c, k, label,   i, m, r, s) {
      m = 0; s = ""
      for (i = 1; i <= k && i <= n[name]; i++)
        if (c[i] + 0 > 0 && v[name, i] ~ /^[0-9.]+$/) { r[++m] = v[name, i] / c[i]; s = s sprintf(" %.2f", r[m]) }
      if (m) printf "ratio %s %.2f x per-round:%s n=%d\n", label, med(r, m), s, m
    }
    $1 == "runnel" && $3 == "MB_per_s" && ($2 == "produce-1k" || $2 == "consume-1k") { v[$2, ++n[$2]] = $4 }
    $1 == "node" && $3 == "socket_to_file_writev" { w[++nw] = $4 }
    $1 == "node" && $3 == "file_to_socket" { f[++nf] = $4 }
    END {
      ratio("produce-1k", w, nw, "produce-1k/node_socket_to_file")
      ratio("consume-1k", f, nf, "consume-1k/node_file_to_socket")
    }
  ' "$raw"
fi
echo "# loadavg at end $(load)" >&2

if [ "${CLUSTER:-1}" != 0 ]; then
  echo "# cluster mode: 3-node cluster (acks=all, RF 3) vs the single node (acks=1, RF 1), then failover" >&2
  PERF="$perf" BIN="$bin" SINGLE="127.0.0.1:$port" ROUNDS=${ROUNDS:-3} \
    timeout 1200 node "$root/dist/test/bench/cluster.bench.js"
fi
