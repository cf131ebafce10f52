#!/usr/bin/env bash
# gantool on one NVIDIA GPU, in one table, in at most 8 minutes:
#   1. gantool info                          (versions, GPUs, onnxruntime's providers)
#   2. data                                  (--root DIR with MNIST/raw; else MNIST-shaped files of gantool's own digits)
#   3. train throughput on CUDA              (benchmarks/train_throughput.py --parts loop --variants: seed 001's loop,
#                                             gantool, their ratio (target >= 30x), the matmul ceiling, --amp bf16, --compile)
#   4. ONNX through onnxruntime's CUDA provider (gantool export; gantool sample --runtime onnx vs --runtime torch on the
#                                             same seed: the largest difference; samples/s through the CUDA provider)
#   5. several processes                     (gantool train --nproc 2 with two GPUs or more; on one GPU, where gantool
#                                             refuses more processes than GPUs and NCCL two ranks on one device,
#                                             a one-process NCCL process group and an all_reduce)
#
#   bash benchmarks/gpu_check.sh [--root DIR] [--steps 3000] [--repeats 3] [--keep]
#   bash benchmarks/gpu_check.sh --dry-run     # no GPU: the same steps on the CPU at tiny sizes, CUDA-only ones skipped
#
# Failures: any step that fails stops the script with a non-zero exit code, naming the step, after printing the rows
# measured so far. A correctness check that fails (onnx vs torch beyond 1e-4, onnxruntime not on its CUDA provider,
# a wrong all_reduce) is a failure. A speed target that is missed is not: its row says MISSED. Without a usable GPU
# and without --dry-run the script exits with code 3 and one line saying why.
# Run from anywhere; python (or $PYTHON) must have gantool installed with its training extra.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python}"
DRY_RUN=0
ROOT=""
STEPS=""
REPEATS=""
KEEP=0
BUDGET_S=480
COMMAND="bash benchmarks/gpu_check.sh${*:+ $*}"

usage() { sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while (($#)); do
    case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --root) ROOT="$2"; shift ;;
    --root=*) ROOT="${1#*=}" ;;
    --steps) STEPS="$2"; shift ;;
    --steps=*) STEPS="${1#*=}" ;;
    --repeats) REPEATS="$2"; shift ;;
    --repeats=*) REPEATS="${1#*=}" ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "gpu_check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if command -v gantool >/dev/null 2>&1; then GANTOOL=(gantool); else GANTOOL=("$PY" -m gantool); fi

# --- is there a GPU? -------------------------------------------------------------------------------------------------
no_gpu=""
if ! command -v nvidia-smi >/dev/null 2>&1; then
    no_gpu="nvidia-smi is not installed"
elif ! nvidia-smi -L >/dev/null 2>&1; then
    no_gpu="nvidia-smi finds no GPU"
elif ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    no_gpu="torch.cuda.is_available() is False"
fi
if ((DRY_RUN == 0)) && [[ -n "$no_gpu" ]]; then
    echo "gpu_check: no usable NVIDIA GPU here ($no_gpu); run it on a machine with one, or pass --dry-run to exercise the CPU paths" >&2
    exit 3
fi

if ((DRY_RUN)); then
    DEVICE=cpu
    STEPS="${STEPS:-40}" REPEATS="${REPEATS:-1}"
    TRAIN_N=2000 TEST_N=500 SMALL_STEPS=20 SAMPLES=2000 VARIANTS=bf16
else
    DEVICE=cuda
    STEPS="${STEPS:-3000}" REPEATS="${REPEATS:-3}"
    TRAIN_N=60000 TEST_N=10000 SMALL_STEPS=200 SAMPLES=100000 VARIANTS=bf16,compile
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
ROWS="$WORK/rows.tsv"
: >"$ROWS"
STEP="start"
STARTED=$SECONDS

# A row of the table: step, figure, value, target, status (tabs inside a field are not allowed).
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" "${5:-}" >>"$ROWS"; }
skip() { row "$1" "$2" "-" "" "skipped: $3"; }

print_table() {
    "$PY" - "$ROWS" <<'EOF'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
header = ["step", "figure", "value", "target", "status"]
print("| " + " | ".join(header) + " |")
print("| " + " | ".join("---" for _ in header) + " |")
for row in rows:
    print("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
EOF
}

on_exit() {
    local rc=$?
    if ((rc != 0)); then
        echo >&2
        echo "gpu_check: FAILED in step '$STEP' (exit code $rc); its output is above. Rows measured before it:" >&2
        print_table >&2
    fi
    if ((KEEP)); then echo "gpu_check: files kept in $WORK" >&2; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap on_exit EXIT

begin() {
    STEP="$1"
    echo "== $1 ($((SECONDS - STARTED)) s)" >&2
}

echo "# gantool GPU check"
echo "date: $(date -Is)"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; $(nvidia-smi -L 2>/dev/null | head -1 || echo 'no NVIDIA GPU')"
echo "command: $COMMAND"
if ((DRY_RUN)); then
    echo "DRY RUN on the CPU at tiny sizes (${no_gpu:-a GPU is present but unused}): the figures only prove the steps run; CUDA-only steps are skipped"
fi

# --- 1. gantool info --------------------------------------------------------------------------------------------------
begin "gantool info"
"${GANTOOL[@]}" info >"$WORK/info.txt"
cat "$WORK/info.txt" >&2
while IFS= read -r line; do
    [[ -z "$line" ]] && continue
    key="$(sed -E 's/^([^ ]+( [^ ]+)?) {2,}.*/\1/' <<<"$line")"
    value="$(sed -E 's/^[^ ]+( [^ ]+)? {2,}//' <<<"$line")"
    row "gantool info" "$key" "$value" "" "ok"
done <"$WORK/info.txt"

# --- 2. data ----------------------------------------------------------------------------------------------------------
begin "data"
if [[ -n "$ROOT" ]]; then
    if [[ ! -f "$ROOT/MNIST/raw/train-images-idx3-ubyte" ]]; then
        echo "gpu_check: --root $ROOT holds no MNIST/raw/train-images-idx3-ubyte (torchvision's layout)" >&2
        exit 2
    fi
    ROOT="$(cd "$ROOT" && pwd)"
    row "data" "MNIST" "$ROOT" "" "real MNIST"
else
    ROOT="$WORK/mnist"
    "$PY" "$HERE/mnist_files.py" "$ROOT" --train "$TRAIN_N" --test "$TEST_N" >/dev/null
    row "data" "MNIST-shaped files" "$TRAIN_N train, $TEST_N test images" "" "gantool's 10,000 digits repeated (no --root): throughput only"
fi

# --- 3. train throughput ------------------------------------------------------------------------------------------------
begin "train throughput"
timeout 330 "$PY" "$HERE/train_throughput.py" --root "$ROOT" --device "$DEVICE" --steps "$STEPS" --repeats "$REPEATS" \
    --parts loop --variants "$VARIANTS" --json "$WORK/throughput.json" >&2
"$PY" - "$WORK/throughput.json" "$DRY_RUN" >>"$ROWS" <<'EOF'
import json, sys
figures = json.load(open(sys.argv[1]))["figures"]
dry = sys.argv[2] == "1"
for f in figures:
    fmt = ",.2f" if f["unit"] in ("×", "%") or f["median"] < 100 else ",.0f"
    value = f"{f['median']:{fmt}} {f['unit']} (range {f['min']:{fmt}} – {f['max']:{fmt}}, {len(f['values'])} runs)"
    target, status = "", "ok"
    if f["name"].startswith("gantool / seed 001"):
        target = ">= 30x (CUDA)"
        status = "n/a on the CPU (dry run)" if dry else ("met" if f["median"] >= 30 else "MISSED")
    print(f"train throughput\t{f['name']}\t{value}\t{target}\t{status}")
EOF
if ((DRY_RUN)); then
    skip "train throughput" "\`gantool train --compile\` (CUDA graphs)" "dry run: CUDA graphs need CUDA (and compiling for the CPU takes minutes on small machines)"
fi

# --- 4. ONNX through onnxruntime's CUDA provider ------------------------------------------------------------------------
begin "onnx sampling"
RUN="$WORK/onnx-run"
"${GANTOOL[@]}" train --data mnist --data-opt "root=$ROOT" --gen mlp --batch-size 100 --steps "$SMALL_STEPS" \
    --device "$DEVICE" --run-dir "$RUN" --ckpt-every 100000 --sample-every 100000 >&2
"${GANTOOL[@]}" export "$RUN" >&2
"${GANTOOL[@]}" sample --runtime onnx --model "$RUN/G.onnx" -n 1000 --seed 7 --out "$WORK/onnx.npy" --device "$DEVICE" >&2
"${GANTOOL[@]}" sample --runtime torch --model "$RUN" -n 1000 --seed 7 --out "$WORK/torch.npy" --device "$DEVICE" >&2
"$PY" - "$WORK/onnx.npy" "$WORK/torch.npy" "$DEVICE" >>"$ROWS" <<'EOF'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
if a.shape != b.shape:
    sys.exit(f"onnx gave shape {a.shape}, torch {b.shape}")
diff = float(np.abs(a.astype(np.float64) - b).max())
if not np.isfinite(diff) or diff > 1e-4:
    sys.exit(f"gantool sample: onnx and torch differ by up to {diff:.3g} on the same seed (more than 1e-4)")
print(f"onnx sampling\tlargest abs(onnx - torch), 1,000 samples, seed 7, --device {sys.argv[3]}\t{diff:.2e}\t<= 1e-4\tmet")
EOF
"$PY" - "$RUN/G.onnx" "$DEVICE" "$SAMPLES" "$REPEATS" >>"$ROWS" <<'EOF'
import statistics, sys, time
from gantool.core.latents import draw
from gantool.inference.sampling import open_generator
path, device, n, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), max(3, int(sys.argv[4]))
gen = open_generator("onnx", path, device)
if device.startswith("cuda") and "CUDA" not in gen.where:
    sys.exit(f"onnxruntime runs on {gen.where}, not on its CUDA provider")
z = draw(n, gen.info.latent_dim, gen.info.latent, 0)
for batch in (256, 4096):
    gen(z[: 4 * batch], batch)  # warm-up: sessions, arenas, kernels
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        gen(z, batch)
        rates.append(n / (time.perf_counter() - started))
    value = f"{statistics.median(rates):,.0f} samples/s (range {min(rates):,.0f} – {max(rates):,.0f}, {repeats} runs)"
    print(f"onnx sampling\t{n:,} samples, batch {batch}, {gen.where}\t{value}\t\tok")
EOF

# --- 5. several processes -----------------------------------------------------------------------------------------------
begin "processes"
if ((DRY_RUN)); then
    "${GANTOOL[@]}" train --nproc 2 --device cpu --data mnist --data-opt "root=$ROOT" --gen mlp --batch-size 50 --steps 10 \
        --run-dir "$WORK/nproc-run" --ckpt-every 100000 --sample-every 100000 >&2
    row "processes" "\`gantool train --nproc 2 --device cpu\` (gloo)" "10 steps" "" "ok (dry run)"
    skip "processes" "NCCL (two processes, or a one-process group)" "dry run: NCCL needs CUDA"
else
    GPUS="$("$PY" -c 'import torch; print(torch.cuda.device_count())')"
    if ((GPUS >= 2)); then
        started=$SECONDS
        timeout 180 "${GANTOOL[@]}" train --nproc 2 --device cuda --data mnist --data-opt "root=$ROOT" --gen mlp --batch-size 100 \
            --steps "$SMALL_STEPS" --run-dir "$WORK/nproc-run" --ckpt-every 100000 --sample-every 100000 >&2
        row "processes" "\`gantool train --nproc 2 --device cuda\` (NCCL, 2 of $GPUS GPUs)" "$SMALL_STEPS steps in $((SECONDS - started)) s" "" "ok"
    else
        skip "processes" "\`gantool train --nproc 2\` on one GPU" "gantool starts one process per GPU and NCCL refuses two ranks on one device"
        timeout 120 "$PY" - >>"$ROWS" <<'EOF'
import socket, torch, torch.distributed as dist
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
device = torch.device("cuda:0")
torch.cuda.set_device(device)
dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1, device_id=device)
try:
    x = torch.full((1 << 20,), 3.0, device=device)
    dist.all_reduce(x)
    dist.broadcast(x, src=0)
    torch.cuda.synchronize()
    if not bool((x == 3.0).all()):
        raise SystemExit(f"NCCL all_reduce over one process changed the tensor: {x[:4].tolist()}")
finally:
    dist.destroy_process_group()
version = ".".join(map(str, torch.cuda.nccl.version()))
print(f"processes\tone-process NCCL group (NCCL {version}): all_reduce and broadcast of 4 MiB\tcorrect\t\tok (instead of --nproc 2)")
EOF
    fi
fi

# --- the table --------------------------------------------------------------------------------------------------------
STEP="table"
elapsed=$((SECONDS - STARTED))
if ((DRY_RUN)); then
    row "total" "wall time of this script" "$elapsed s" "<= $BUDGET_S s on a GPU" "n/a (dry run)"
else
    row "total" "wall time of this script" "$elapsed s" "<= $BUDGET_S s" "$( ((elapsed <= BUDGET_S)) && echo met || echo MISSED)"
fi
echo
print_table
missed="$(awk -F'\t' '$5 ~ /^MISSED/ {n++} END {print n + 0}' "$ROWS")"
echo
if ((DRY_RUN)); then
    echo "gpu_check: dry run: every step ran on the CPU, CUDA-only ones skipped (see the table); no GPU figures"
else
    echo "gpu_check: every step ran; $missed target(s) missed"
fi
