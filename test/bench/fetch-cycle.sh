#!/usr/bin/env bash
# Where a consumer's fetch round trip goes, seen from the broker (issue #16). Not a test. Runs COMMAND (say a
# `loadgen consume`) under `perf trace` of the broker's read/write/writev calls, then on the connection that
# wrote the most (the consumer's) prints per response, as medians and p90 (ms):
#   handle  request read -> response writev starts (decode, the reads, the prefetch started, encode)
#   writev  the writev itself (the copy into the socket; loopback also delivers it in this call)
#   client  writev end -> next request read (the client receives, parses and asks again)
# and the responses the socket took only in part (a write on it before the next request: the rest, written on
# POLLOUT) with the delay of that rest after the writev.
# librdkafka keeps one Fetch in flight per broker: consume MB/s = response bytes / (handle + writev + client).
# On a shared machine these medians move far less with the load than MB/s does, but the tracing costs: consume-1k
# ran ~20 % slower traced (1,010-1,190 vs 1,225-1,470 MB/s, load 4-5) and waits on wake-ups grow, the rest's most:
# traced, an 8 MiB SO_SNDBUF (LD_PRELOAD experiment) took the partial writes from ~75 % to ~0 % and MB/s up
# 10-20 %; untraced, 8 alternating pairs: 1,337 vs 1,365 MB/s. Confirm a gain seen here with untraced runs.
# usage: test/bench/fetch-cycle.sh BROKER_PID COMMAND...   (needs perf with `perf trace`, run as root)
# e.g.   test/bench/fetch-cycle.sh "$pid" /tmp/perf-bin/loadgen consume -b 127.0.0.1:9092 -t t -n 1000000
set -euo pipefail
pid=${1:?usage: fetch-cycle.sh BROKER_PID COMMAND...}
shift
[ $# -gt 0 ] || { echo "usage: fetch-cycle.sh BROKER_PID COMMAND..." >&2; exit 2; }
out=$(mktemp /tmp/fetch-cycle.XXXXXX)
trap 'rm -f "$out" "$out.cmd"' EXIT
timeout 300 perf trace -p "$pid" -e read,write,writev -o "$out" >/dev/null 2>&1 &
tracer=$!
sleep 1.5 # perf trace attaches to every thread first
timeout 300 "$@" >"$out.cmd" || echo "# command exited with $?" >&2
sleep 0.3
kill -INT "$tracer" 2>/dev/null || true
wait "$tracer" 2>/dev/null || true
# Lines: "<ms> ( <dur> ms): <comm>/<tid> <call>(fd: <n>, ...) = <result>"
awk '
  function pct(a, n, p,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n ? a[int((n - 1) * p) + 1] : 0
  }
  function show(name, a, n) { printf "%-7s n=%d p50 %.3f p90 %.3f ms\n", name, n, pct(a, n, 0.5), pct(a, n, 0.9) }
  match($0, /(read|writev|write)\(fd: [0-9]+/) {
    split(substr($0, RSTART, RLENGTH), c, /\(fd: /)
    res = $NF; dur = $3; gsub(/[^0-9.]/, "", dur)
    k++; t[k] = $1; d[k] = dur; call[k] = c[1]; fd[k] = c[2]; r[k] = res
    if (c[1] == "writev") nv[c[2]]++
  }
  END {
    for (f in nv) if (nv[f] > best) { best = nv[f]; sock = f }
    if (!best) { print "no writev seen: is BROKER_PID the broker and did COMMAND fetch?"; exit 1 }
    for (i = 1; i <= k; i++) {
      if (fd[i] != sock || r[i] !~ /^[0-9]+$/) continue
      if (call[i] == "read" && r[i] > 0) {
        if (wend) { cl[++ncl] = t[i] - wend; wend = 0 }
        req = t[i]; rest = 0
      } else if (call[i] == "writev") {
        if (req) { h[++nh] = t[i] - req; req = 0 }
        w[++nw] = d[i]; wend = t[i] + d[i]; rest = 1
      } else if (call[i] == "write" && rest) {
        p[++np] = t[i] - wend; rest = 0
      }
    }
    printf "connection fd %s: %d responses (writev), %d written in part\n", sock, nw, np
    show("handle", h, nh); show("writev", w, nw); show("client", cl, ncl); show("rest", p, np)
  }' "$out"
grep -E 'MB_per_s|msgs_per_s' "$out.cmd" | sed 's/^/# /' || true # loadgen's figures, if COMMAND is loadgen
