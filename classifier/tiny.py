"""A tiny CLIP with random weights, saved as an open_clip ``local-dir:`` folder.

Its guesses are meaningless; it exists so the whole pipeline (factory, real BPE
tokenizer, preprocessing, cache, CLI, bot) can run offline in a fraction of a
second: tests, smoke runs, trying the tools without downloading weights.
"""

import json
from pathlib import Path

import torch

TINY_MODEL_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def save_tiny_model(folder: str | Path, seed: int = 0) -> Path:
    """Write ``open_clip_config.json`` and seeded random weights into ``folder``."""
    from open_clip.model import CLIP

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_cfg": TINY_MODEL_CFG, "preprocess_cfg": {}}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    torch.manual_seed(seed)
    model = CLIP(**json.loads(json.dumps(TINY_MODEL_CFG)))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder
