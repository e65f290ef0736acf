"""Which open_clip model a checkpoint is for, read from its tensors' shapes (pure, no I/O).

A checkpoint loaded into the wrong architecture fails deep inside open_clip ("text pos_embed
width changed!"). The shapes of a standard CLIP state dict name its architecture: the patch
embedding gives the vision width and patch size, the vision positions the image size, the word
table the text width and vocabulary, the text positions the context length, the projection the
embedding size, and the numbered residual blocks the depth of each tower. These are compared
with open_clip's model configs, filled in with open_clip's own defaults (``CLIPVisionCfg``,
``CLIPTextCfg``). Configs with a timm or Hugging Face tower are not compared.
"""

import math
import re
from collections.abc import Mapping

import open_clip
from open_clip.model import CLIPTextCfg, CLIPVisionCfg

_BLOCK = re.compile(r"^(visual\.transformer|transformer)\.resblocks\.(\d+)\.")


def checkpoint_shape(state_dict: Mapping) -> dict | None:
    """The architecture of a standard open_clip/OpenAI CLIP state dict, or None for any other layout."""
    state_dict = {key.removeprefix("module."): value for key, value in state_dict.items()}
    try:
        conv = state_dict["visual.conv1.weight"].shape
        positions = state_dict["visual.positional_embedding"].shape[0]
        words = state_dict["token_embedding.weight"].shape
        context = state_dict["positional_embedding"].shape[0]
        embed_dim = state_dict["text_projection"].shape[1]
    except (KeyError, AttributeError, IndexError):
        return None
    depth = {"visual.transformer": 0, "transformer": 0}
    for key in state_dict:
        match = _BLOCK.match(key)
        if match:
            depth[match.group(1)] = max(depth[match.group(1)], int(match.group(2)) + 1)
    grid = math.isqrt(max(positions - 1, 0))
    return {
        "embed_dim": int(embed_dim),
        "vision_width": int(conv[0]),
        "patch_size": int(conv[-1]),
        "image_size": grid * int(conv[-1]),
        "vision_layers": depth["visual.transformer"],
        "text_width": int(words[1]),
        "vocab_size": int(words[0]),
        "context_length": int(context),
        "text_layers": depth["transformer"],
    }


def config_shape(model_cfg: Mapping) -> dict | None:
    """The same figures for an open_clip model config, or None when it has a timm or Hugging Face tower."""
    vision_cfg, text_cfg = model_cfg.get("vision_cfg") or {}, model_cfg.get("text_cfg") or {}
    if vision_cfg.get("timm_model_name") or text_cfg.get("hf_model_name"):
        return None
    try:
        vision, text = CLIPVisionCfg(**vision_cfg), CLIPTextCfg(**text_cfg)
    except TypeError:
        return None
    if not isinstance(vision.layers, int) or not isinstance(vision.image_size, int):
        return None  # a ResNet tower (layers per stage) or a non-square input
    return {
        "embed_dim": model_cfg.get("embed_dim"),
        "vision_width": vision.width,
        "patch_size": vision.patch_size,
        "image_size": vision.image_size,
        "vision_layers": vision.layers,
        "text_width": text.width,
        "vocab_size": text.vocab_size,
        "context_length": text.context_length,
        "text_layers": text.layers,
    }


def checkpoint_fits(state_dict: Mapping, model_cfg: Mapping) -> bool:
    """False only when both shapes are known and differ (unknown layouts are given the benefit of the doubt)."""
    found, wanted = checkpoint_shape(state_dict), config_shape(model_cfg)
    return found is None or wanted is None or found == wanted


def models_fitting(state_dict: Mapping) -> list[str]:
    """open_clip model names whose config has exactly the checkpoint's shapes."""
    found = checkpoint_shape(state_dict)
    if found is None:
        return []
    return [
        name
        for name in open_clip.list_models()
        if (config := open_clip.get_model_config(name)) and config_shape(config) == found
    ]


def describe_checkpoint(state_dict: Mapping) -> str:
    """``"image 224 px, patch 32, vision width 768 × 12 layers, text width 512 × 12 layers, embedding 512"``."""
    found = checkpoint_shape(state_dict)
    if found is None:
        return "not a standard CLIP layout"
    return (
        f"image {found['image_size']} px, patch {found['patch_size']}, vision width {found['vision_width']} × "
        f"{found['vision_layers']} layers, text width {found['text_width']} × {found['text_layers']} layers, "
        f"embedding {found['embed_dim']}"
    )
