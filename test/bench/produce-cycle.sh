#!/usr/bin/env bash
# Where a producer's time goes (issue #16), for COMMAND (say a `loadgen produce`) against the broker BROKER_PID.
# Not a test. Two modes:
#   default   samples /proc/<pid>/task/*/schedstat of COMMAND's threads (every ~5 ms while it runs) and of the
#             broker's threads (before and after), and prints per thread (seconds): cpu (on a core), runq (runnable
#             but waiting for a core: the machine's contention) and, for COMMAND's threads, other = wall - cpu -
#             runq (sleeping: on a lock, in poll, waiting for the broker). No tracing, so the run is not slowed.
#   TRACE=1   runs COMMAND under `strace -f` (sendmsg/recvmsg, librdkafka's calls) and prints its ProduceRequests:
#             count and size, how many were in flight when each was sent, send -> its response (matched by
#             correlation id), the gap between sends and the tail (last send -> last response). strace slows the
#             generator (~10-20 %): read the shape (in flight, response time vs gap), not the rate.
# What it showed (2026-12-08, bench.sh's produce-100: 1 M x 100 B, 4 partitions, topic created first, load 2.5-5):
# librdkafka sends ~110-130 requests, each one partition's 1 MiB batch (batch.size), paced by the application
# thread that fills them (~3.2-3.8 ms apart, traced); 0 in flight when the next is sent for 70-90 % of them (mock
# alike), Runnel answering in 1.8-3.3 ms median (mock 1.5-2.2 ms), as a rule before the next batch is full. With
# queue.buffering.max.messages=1000000 the application thread never blocks on answers: only the last one (the tail,
# < 1 ms) adds to the run. Untraced, the application thread is CPU-bound against both brokers: cpu 0.26-0.31 s and
# runq 0.05-0.35 s (waiting for a core) of a 0.4-0.7 s run, "other" (asleep) 0.02-0.07 s; librdkafka's broker
# thread waits for a core more than it runs (cpu 0.17-0.22 s, runq 0.16-0.48 s). Runnel's main thread uses
# ~0.09 s (plus 0.02-0.04 s on its other threads), the mock 0.04 s: on 2 shared cores that CPU only competes
# with the generator's two threads. So produce-100 msg/s is set by how much of a core the generator's threads get
# (the machine's load and the broker's CPU), not by Runnel's answer time; A/B pairs at load 2.5: 0.85, 1.15, 1.0.
# produce-1k is the other way round: Runnel falls behind (TRACE=1: up to 17 requests in flight, what the socket
# buffers hold; answers p50 5.5 ms, p90 35 ms; the mock 0 in flight for 86 %, p90 2.9 ms), its main thread
# runnable ~90 % of the run (cpu 0.6-0.7 s/GB, runq 1.7-1.9 s at load 3-4.6): bound by the CPU it gets and needs
# per GB. Its main thread's profile: the page-cache write 31 %, the socket read 16 %, CRC-32C 11 %, JavaScript the
# rest (no hot spot). That write is dearer once the page cache fills RAM (free memory is printed for that).
# usage: test/bench/produce-cycle.sh BROKER_PID COMMAND...
# e.g.   test/bench/produce-cycle.sh "$pid" /tmp/perf-bin/loadgen produce -b 127.0.0.1:9092 -t t -n 1000000 -s 100 \
#          -X linger.ms=5 -X batch.size=1048576 -X batch.num.messages=1000000 -X queue.buffering.max.messages=1000000
set -euo pipefail
pid=${1:?usage: produce-cycle.sh BROKER_PID COMMAND...}
shift
[ $# -gt 0 ] || { echo "usage: produce-cycle.sh BROKER_PID COMMAND..." >&2; exit 2; }
[ -r "/proc/$pid/stat" ] || { echo "produce-cycle: no process $pid" >&2; exit 2; }
out=$(mktemp /tmp/produce-cycle.XXXXXX)
trap 'rm -f "$out" "$out.cmd"' EXIT

if [ "${TRACE:-0}" = 1 ]; then
  # -xx: every byte as \xHH, so the request header (size, api key, version, correlation id) parses with awk.
  timeout 300 strace -f -xx -s 16 -tt -T -e trace=sendmsg,recvmsg -o "$out" "$@" >"$out.cmd" ||
    echo "# command exited with $?" >&2
  awk '
    function hex(s,   i, v) {
      v = 0
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v
    }
    # the big-endian int32 at byte `at` of b ("\xHH" per byte)
    function int32(b, at,   i, s) { for (i = 0; i < 4; i++) s = s substr(b, 4 * (at + i) + 3, 2); return hex(s) }
    function ms(t,   a) { split(t, a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
    function pct(a, n, p,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n ? a[int((n - 1) * p) + 1] : 0
    }
    {
      if (!match($0, /iov_base="[^"]*"/)) next
      b = substr($0, RSTART + 10, RLENGTH - 11)
      if (!match($0, /= -?[0-9]+ <[0-9.]+>$/)) next
      split(substr($0, RSTART + 2), rr, " "); res = rr[1] + 0
    }
    $3 ~ /^sendmsg/ && length(b) >= 48 && substr(b, 17, 8) == "\\x00\\x00" {
      c = int32(b, 8); t = ms($2); sent[c] = t; n++; st[n] = t; sz[n] = res; fl[n] = inflight; inflight++
    }
    $3 ~ /^recvmsg/ && / = 8 </ && /iov_len=8\}/ {
      c = int32(b, 4); if (!(c in sent) || (c in done)) next
      done[c] = 1; inflight--; nr++; rt[nr] = ms($2) - sent[c]; last = ms($2)
    }
    END {
      if (!n) { print "no ProduceRequest seen: is COMMAND a producer?"; exit 1 }
      for (i = 1; i < n; i++) gap[i] = st[i + 1] - st[i]
      # in flight counts bucketed: 0, 1, 2-3, 4-7, ... (b: the low end of the bucket)
      for (i = 1; i <= n; i++) { for (b = 1; b * 2 <= fl[i]; b *= 2); b = fl[i] ? b : 0; f[b]++; if (b > mx) mx = b }
      printf "%d ProduceRequests, %d answered, %.1f ms from first send to last answer\n", n, nr, last - st[1]
      printf "size        p50 %d min %d bytes\n", pct(sz, n, 0.5), pct(sz, n, 0)
      printf "answer      p50 %.2f p90 %.2f max %.2f ms (send -> its response read)\n",
        pct(rt, nr, 0.5), pct(rt, nr, 0.9), pct(rt, nr, 1)
      printf "gap         p50 %.2f p90 %.2f ms (between sends)\n", pct(gap, n - 1, 0.5), pct(gap, n - 1, 0.9)
      printf "tail        %.2f ms (last send -> last answer)\n", last - st[n]
      s = ""
      for (i = 0; i <= mx; i = i ? i * 2 : 1) {
        if (f[i]) s = s (i < 2 ? sprintf(" %d:%d", i, f[i]) : sprintf(" %d-%d:%d", i, i * 2 - 1, f[i]))
      }
      print "in flight at send (count:requests)" s
    }' "$out"
else
  # schedstat: "<ns on cpu> <ns waiting on a runqueue> <timeslices>"
  declare -A cpu0 wait0 gcpu gwait gcomm
  for f in /proc/"$pid"/task/*/schedstat; do
    read -r c w _ <"$f" && t=${f%/schedstat} && cpu0[$t]=$c && wait0[$t]=$w
  done
  t0=$(date +%s%N)
  "$@" >"$out.cmd" 2>&1 &
  g=$!
  while kill -0 "$g" 2>/dev/null; do
    for f in /proc/"$g"/task/*/schedstat; do
      t=${f%/schedstat}; t=${t##*/}
      { read -r c w _ <"$f"; } 2>/dev/null || continue
      gcpu[$t]=$c; gwait[$t]=$w
      read -r "gcomm[$t]" <"/proc/$g/task/$t/comm" 2>/dev/null || true # again: the child was bash before its exec
    done
    sleep 0.005
  done
  wait "$g" || echo "# command exited with $?" >&2
  wall=$(($(date +%s%N) - t0))
  printf "wall %.3f s, load %s, free memory %d MiB\n" "$(echo "$wall / 1000000000" | bc -l)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(awk '$1 == "MemFree:" { print int($2 / 1024) }' /proc/meminfo)"
  for t in "${!gcpu[@]}"; do
    c=${gcpu[$t]}; w=${gwait[$t]}
    ((c > 5000000)) || continue # threads that did next to nothing
    awk -v n="${gcomm[$t]}" -v c="$c" -v w="$w" -v wall="$wall" \
      'BEGIN { printf "command %-14s cpu %.3f runq %.3f other %.3f\n", n, c / 1e9, w / 1e9, (wall - c - w) / 1e9 }'
  done
  for f in /proc/"$pid"/task/*/schedstat; do
    t=${f%/schedstat}
    read -r c w _ <"$f" 2>/dev/null || continue
    [ -n "${cpu0[$t]:-}" ] || continue
    c=$((c - cpu0[$t])); w=$((w - wait0[$t]))
    ((c > 5000000)) || continue
    read -r n <"$t/comm" || n=?
    awk -v n="$n" -v c="$c" -v w="$w" 'BEGIN { printf "broker  %-14s cpu %.3f runq %.3f\n", n, c / 1e9, w / 1e9 }'
  done
fi
grep -E '^(msgs_per_s|MB_per_s|elapsed_s) ' "$out.cmd" | sed 's/^/# /' || true # loadgen's figures
