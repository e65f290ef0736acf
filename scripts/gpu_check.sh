#!/usr/bin/env bash
# One short GPU check: fp16 vs fp32 agreement of ViT-B/32 on CUDA, then the whole bot under
# load (toonzoo_tools/stress.py, 50 chats, faults) with the model on the GPU. Writes $OUT/*.json.
# Offline machine: wheels in .whl (see scripts/gpu_bench.sh) are installed next to its torch.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}"
if ! python3 -c "import open_clip, telegram, sqlite_utils" 2>/dev/null; then
    site="$(mktemp -d)"
    python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .whl/*.whl
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # toonzoo_tools is not installed: it runs from this checkout
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
python3 - "$out/precision-gpu.json" <<'PY'
import json, sys, time, torch, torch.nn.functional as F
from classifier.model import load_model
torch.manual_seed(1)
pixels = torch.randn(64, 3, 224, 224)
features, seconds = {}, {}
for precision in ("fp32", "fp16", "bf16"):
    loaded = load_model("ViT-B-32-quickgelu", "random", device="cuda", precision=precision)
    with torch.inference_mode():
        x = pixels.to("cuda", loaded.dtype)
        loaded.model.encode_image(x); torch.cuda.synchronize()
        start = time.perf_counter()
        features[precision] = F.normalize(loaded.model.encode_image(x).float(), dim=-1).cpu()
        torch.cuda.synchronize(); seconds[precision] = time.perf_counter() - start
result = {p: {"min_cosine_to_fp32": float((features[p] * features["fp32"]).sum(-1).min()),
              "batch64_ms": round(seconds[p] * 1000, 2)} for p in features}
result["device"] = torch.cuda.get_device_name(0)
print(json.dumps(result, indent=2)); json.dump(result, open(sys.argv[1], "w"), indent=2)
PY
python3 -m toonzoo_tools.stress --model ViT-B-32-quickgelu --pretrained random --device cuda \
    --chats 50 --pictures 8 --faults --json "$out/stress-gpu.json" 2>&1 | grep -E '^ +[a-z_0-9]+: ' || true
