#!/usr/bin/env bash
# Runs one shark-dist quantize three ways and prints, for each, the wall
# time and the peak resident memory of every process taking part:
#   in-process   prism inside shark-dist (the default)
#   loopback     prism as a job server; the workers inside the submitting shark-dist
#   external     prism as a job server; each job's worker a process of its own,
#                started by "shark-dist worker-pool" (--environment_type EXTERNAL)
# usage: dist/bench/processes.sh SHARK_DIST PRISM 'SHARDS_GLOB' [quantize flags...]
set -euo pipefail
dist=$1 prism=$2 glob=$3
shift 3
work=$(mktemp -d)
trap 'kill $ppid $qpid $mpid 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jport=$(port) wport=$(port)
"$prism" --job_port "$jport" --serve_http=false >"$work/prism.log" 2>&1 & ppid=$!
"$dist" worker-pool --port "$wport" >"$work/pool.log" 2>&1 & qpid=$!
sleep 2

# watch records every descendant of the prism and pool processes with its
# peak resident set (VmHWM, kB) as last seen, until killed.
watch() {
  while :; do
    for p in $(pgrep -P "$qpid"; for b in $(pgrep -P "$qpid"); do pgrep -P "$b"; done) "$ppid" "$qpid"; do
      h=$(awk '/VmHWM/ {print $2}' /proc/"$p"/status 2>/dev/null || true)
      [ -n "$h" ] && echo "$p $h"
    done
    sleep 0.05
  done
}
run() { # name, extra flags
  local name=$1; shift
  rm -rf "$work/out"
  watch >"$work/$name.watch" & mpid=$!
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$dist" quantize $glob -o "$work/out" "$@" >/dev/null 2>"$work/$name.err" ||
    { tail -5 "$work/$name.err"; exit 1; }
  kill $mpid; wait $mpid 2>/dev/null || true
  read -r wall rss <"$work/$name.time"
  echo "$name: wall ${wall} s; shark-dist (submitter) peak $((rss / 1024)) MiB"
  sort -k1,1n -k2,2n "$work/$name.watch" | awk -v prism="$ppid" -v pool="$qpid" '
    { peak[$1] = $2 > peak[$1] ? $2 : peak[$1] }
    END { for (p in peak) { role = p == prism ? "prism job server" : p == pool ? "worker pool" : "worker/boot"
            printf "  %-17s pid %-7s peak %d MiB\n", role, p, peak[p] / 1024 } }'
}
remote=(--runner universal --endpoint "127.0.0.1:$jport")
run in-process "$@"
run loopback "$@" "${remote[@]}" --environment_type LOOPBACK
run external "$@" "${remote[@]}" --environment_type EXTERNAL --environment_config "127.0.0.1:$wport"
echo "worker processes the pool started: $(grep -c 'starting worker' "$work/pool.log")"
