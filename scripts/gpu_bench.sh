#!/usr/bin/env bash
# GPU variant of `python -m toonzoo_tools.bench`: fp16 on CUDA, raw batches 1..256, 256 concurrent callers,
# engine max_batch 128, one decode process per spare core, JPEGs decoded on the GPU (nvJPEG),
# decoding by 1, 2, 4, ... processes and on the GPU, plus the bf16 run; then the GPU decoding
# tests (nvJPEG vs the CPU path) and a summary against the goals. About 4 minutes.
#
#   scripts/gpu_bench.sh [extra bench options]      # writes $OUT/bench-gpu.json and prints tables
#
# Environment: OUT (folder for the JSON, default .), PYTHON (default python3),
# WHEELS (folder of wheels for an offline machine, default .whl; see below).
#
# Dependencies: uses the project's dependencies when they import. Otherwise, on a machine
# without internet, wheels in $WHEELS are installed next to the existing torch (which is
# kept): open_clip_torch, ftfy, wcwidth, sqlite-utils, sqlite-fts4, click-default-group.
# Fetch them on a connected machine with:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl \
#     open_clip_torch==3.3.0 ftfy wcwidth sqlite-utils sqlite-fts4 click-default-group
# With internet and no wheels, `pip install -e .` installs the project as usual.
# Without the openai weights in the Hugging Face cache (offline), the run uses random
# weights (same compute) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${OUT:-.}"
python="${PYTHON:-python3}"
wheels="${WHEELS:-.whl}"
mkdir -p "$out"

if ! "$python" -c "import open_clip, sqlite_utils, torch" 2>/dev/null; then
    if compgen -G "$wheels/*.whl" >/dev/null; then
        site="$(mktemp -d)"
        "$python" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$wheels"/*.whl
        export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
    else
        "$python" -m pip install -q -e .
    fi
fi

"$python" - <<'EOF'
import torch
assert torch.cuda.is_available(), "no CUDA device visible to torch"
print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}", flush=True)
EOF

export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" PYTHONUNBUFFERED=1
# The tools are not installed with the package: `-m` finds toonzoo_tools in this checkout.
"$python" -m toonzoo_tools.bench --device cuda --json "$out/bench-gpu.json" "$@"

# nvJPEG against the CPU path (cosine of embeddings >= 0.99, same fallbacks); needs pytest.
if "$python" -m pytest --version >/dev/null 2>&1; then
    PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$python" -m pytest -q -p no:cacheprovider -rs \
        tests/test_gpu_decode.py tests/test_decode_pool.py -k "not the_bot" 2>&1 | tail -5 || true
else
    echo "pytest not installed: GPU decoding tests skipped"
fi

"$python" - "$out/bench-gpu.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
c32 = (r["latency_ms"].get("c32") or {}).get("p50")
rows = [
    ("device", r["device"], ""),
    ("engine img/s end to end", r["engine_img_per_s"], ">= 4000"),
    ("engine / raw", r["engine_to_raw"], ""),
    ("p50 latency, 32 callers (ms)", c32, "<= 30"),
    ("p50 latency, 1 caller (ms)", r["latency_ms"]["c1"]["p50"], ""),
    ("GPU JPEG decode img/s", r.get("gpu_decode_img_per_s"), ""),
    ("decode img/s by processes", r.get("decode_img_per_s_by_workers"), ""),
    ("JPEGs decoded on the GPU / fallbacks", f'{r["engine_stats"].get("device_decoded")} / '
                                             f'{r["engine_stats"].get("device_decode_fallbacks")}', ""),
]
print("\n| measurement | result | goal |\n|---|---|---|")
for name, value, goal in rows:
    print(f"| {name} | {value} | {goal} |")
EOF
