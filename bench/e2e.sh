#!/usr/bin/env bash
# End to end: `shark quantize` file to file, against the commands a user
# would run instead, on one float32 table written by NumPy. Runs every
# command in turn, RUNS times (alternating, so that a slower moment of a
# shared machine falls on all of them), and prints each one's best and
# median wall time, its ratio to cp's best, and its peak resident memory.
#
#   bench/e2e.sh                       # 2,097,152 x 64: 512 MiB
#   ROWS=16777216 bench/e2e.sh         # 4 GiB
#   SETS="avx2 portable" bench/e2e.sh  # these kernel sets only (default:
#                                      # every set the CPU allows)
#
# Needs bin/shark (./build.sh), GNU time (apt-get install time) and, for
# the peers, Debian's python3-numpy and python3-torch. The files go to
# BENCH_DIR (default: a new temporary folder, removed at the end): it needs
# about 2.5 times the table's size free.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-2097152}"
DIM="${DIM:-64}"
RUNS="${RUNS:-3}"
SHARK="${SHARK:-$PWD/bin/shark}"
PY=/usr/bin/python3

[ -x "$SHARK" ] || { echo "bench/e2e.sh: no $SHARK: run ./build.sh first" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/e2e.sh: needs GNU time: apt-get install time" >&2; exit 1; }
$PY -c 'import numpy, torch' 2>/dev/null || { echo "bench/e2e.sh: needs python3-numpy and python3-torch (apt-get install python3-numpy python3-torch)" >&2; exit 1; }

own_dir=""
if [ -z "${BENCH_DIR:-}" ]; then
  BENCH_DIR="$(mktemp -d)"
  own_dir=1
fi
cleanup() { [ -n "$own_dir" ] && rm -rf "$BENCH_DIR"; }
trap cleanup EXIT
D="$BENCH_DIR"
IN="$D/table.npy"

echo "writing a ${ROWS} x ${DIM} float32 table with NumPy to $IN"
$PY - "$IN" "$ROWS" "$DIM" <<'PYEOF'
import sys, numpy as np
path, rows, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, dim))
step = 1 << 18
for lo in range(0, rows, step):
    hi = min(rows, lo + step)
    scale = np.exp(rng.standard_normal((hi - lo, 1))).astype(np.float32) * np.float32(0.05)
    out[lo:hi] = rng.standard_normal((hi - lo, dim), dtype=np.float32) * scale
out.flush()
PYEOF

# The peers, as scripts a user would write.
cat > "$D/np_fp16.py" <<'PYEOF'
import sys, numpy as np
np.save(sys.argv[2], np.load(sys.argv[1]).astype(np.float16))
PYEOF
cat > "$D/np_int8.py" <<'PYEOF'
import sys, numpy as np
# FBGEMM-style int8 rowwise: per row, bias = min, scale = (max - min) / 255.
w = np.load(sys.argv[1])
lo = w.min(axis=1, keepdims=True)
scale = (w.max(axis=1, keepdims=True) - lo) / np.float32(255)
scale[scale == 0] = 1
codes = np.clip(np.rint((w - lo) / scale), 0, 255).astype(np.uint8)
np.savez(sys.argv[2], codes=codes, scale=scale.astype(np.float16), bias=lo.astype(np.float16))
PYEOF
cat > "$D/torch_prepack.py" <<'PYEOF'
import sys, numpy as np, torch
op = {"8": torch.ops.quantized.embedding_bag_byte_prepack, "4": torch.ops.quantized.embedding_bag_4bit_prepack}[sys.argv[3]]
torch.save(op(torch.from_numpy(np.load(sys.argv[1]))), sys.argv[2])
PYEOF

# The kernel sets to measure: every set this CPU allows (shark version
# --json), or SETS="avx2 portable"; each shark command runs under each, by
# SHARK_KERNELS.
"$SHARK" version
if [ -z "${SETS:-}" ]; then
  SETS="$("$SHARK" version --json | $PY -c 'import json, sys; print(" ".join(json.load(sys.stdin).get("kernel_sets", [])))')"
fi
names=(cp)
cmds=("cp $IN $D/copy.npy")
for set in ${SETS:-default}; do
  run="$SHARK"
  [ "$set" = default ] || run="env SHARK_KERNELS=$set $SHARK"
  names+=("shark --budget 30% [$set]" "shark --int8 1 [$set]" "shark --int4 1 [$set]" "shark --fp16 1 [$set]")
  cmds+=(
    "$run quantize $IN -o $D/budget.shark --budget 30%"
    "$run quantize $IN -o $D/int8.shark --fp32 0 --fp16 0 --int8 1 --int4 0"
    "$run quantize $IN -o $D/int4.shark --fp32 0 --fp16 0 --int8 0 --int4 1"
    "$run quantize $IN -o $D/fp16.shark --fp32 0 --fp16 1 --int8 0 --int4 0"
  )
done
names+=("NumPy fp16 cast, np.save" "NumPy int8 rowwise, np.savez" "PyTorch byte_prepack, torch.save" "PyTorch 4bit_prepack, torch.save")
cmds+=(
  "$PY $D/np_fp16.py $IN $D/np16.npy"
  "$PY $D/np_int8.py $IN $D/np8.npz"
  "$PY $D/torch_prepack.py $IN $D/t8.pt 8"
  "$PY $D/torch_prepack.py $IN $D/t4.pt 4"
)

# One warm run of cp puts the table in the page cache for every command.
cp "$IN" "$D/copy.npy"
for ((r = 1; r <= RUNS; r++)); do
  for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086 # the commands are word lists
    /usr/bin/time -f "%e %M" -o "$D/time" ${cmds[$i]} >/dev/null 2>&1 || { echo "failed: ${cmds[$i]}" >&2; exit 1; }
    read -r secs kib < "$D/time"
    echo "$secs $kib" >> "$D/runs.$i"
  done
  echo "run $r of $RUNS done" >&2
done

best() { sort -n "$1" | head -1 | cut -d' ' -f1; }
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak() { sort -n -k2 "$1" | tail -1 | cut -d' ' -f2; }
cp_best="$(best "$D/runs.0")"
printf '\n%s x %s float32 (%s MiB), %s runs each, alternating; wall seconds\n\n' "$ROWS" "$DIM" "$((ROWS * DIM * 4 >> 20))" "$RUNS"
printf '| %-40s | %7s | %7s | %8s | %9s |\n' command best median "vs cp" "peak MiB"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------------" "---------" "---------" "----------" "-----------"
for i in "${!cmds[@]}"; do
  b="$(best "$D/runs.$i")"
  awk -v n="${names[$i]}" -v b="$b" -v m="$(median "$D/runs.$i")" -v c="$cp_best" -v p="$(peak "$D/runs.$i")" \
    'BEGIN { printf "| %-40s | %7s | %7s | %7.2fx | %9.1f |\n", n, b, m, b / c, p / 1024 }'
done
