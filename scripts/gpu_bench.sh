#!/usr/bin/env bash
# GPU variant of `toonzoo bench`: fp16 on CUDA, raw batches 1..256, 256 concurrent callers,
# engine max_batch 128, one decode thread per spare core, plus the bf16 run. Under 3 minutes.
#
#   scripts/gpu_bench.sh [extra toonzoo bench options]      # writes $OUT/bench-gpu.json
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

# Not `toonzoo` itself: the bench needs only the classifier and toonzoo_tools packages, not the bot's dependencies.
exec "$python" -m classifier bench --device cuda --json "$out/bench-gpu.json" "$@"
