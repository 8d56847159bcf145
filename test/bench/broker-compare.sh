#!/usr/bin/env bash
# `npm run bench`: Runnel against the reference broker (librdkafka's mock cluster) in one run, side by
# side, with the load generator of ../shared/perf (librdkafka, C). Not a test; needs ../shared and the
# Debian packages librdkafka-dev and gcc. Prints compare.sh's table: <scenario> <metric> <A> <B> <unit> <B/A> ...
# Knobs: ROUNDS (3), SCENARIOS ("produce-100 produce-1k consume-100 consume-1k latency"), RUNNEL_SET
# (extra --set flags for Runnel, e.g. "flush.messages=1"), FETCH_WAIT_MS (client default 500).
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
node "$root/dist/broker/bin.cjs" start --host 127.0.0.1 --port 0 --data-dir "$work/data" "${sets[@]}" \
  >"$work/runnel.log" 2>&1 & runnel_pid=$!
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/runnel.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -s "$work/mock.port" ] && [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "bench: runnel did not start: $(cat "$work/runnel.log")" >&2; exit 1; }
echo "# runnel on 127.0.0.1:$port (pid $runnel_pid), mock on $(cat "$work/mock.port") (pid $mock_pid)" >&2
A_NAME=mock A_PID=$mock_pid B_NAME=runnel B_PID=$runnel_pid ROUNDS=${ROUNDS:-3} BIN="$bin" \
  "$perf/compare.sh" "$(cat "$work/mock.port")" "127.0.0.1:$port" ${SCENARIOS:-produce-100 produce-1k consume-100 consume-1k latency}

if [ "${CLUSTER:-1}" != 0 ]; then
  echo "# cluster mode: 3-node cluster (acks=all, RF 3) vs the single node (acks=1, RF 1), then failover" >&2
  PERF="$perf" BIN="$bin" SINGLE="127.0.0.1:$port" ROUNDS=${ROUNDS:-3} \
    timeout 1200 node "$root/dist/test/bench/cluster.bench.js"
fi
