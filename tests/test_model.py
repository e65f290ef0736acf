"""Model loading through open_clip's factory: local weights, identities, offline failures."""

import json
import os
import subprocess
import sys
import time
import warnings

import open_clip
import pytest
import torch

from classifier.errors import WeightsUnavailable
from classifier.model import DEFAULT_MODEL, DEFAULT_PRETRAINED, load_model
from classifier.tiny import TINY_MODEL_CFG

TINY_NAME = "toonzoo-tiny-test"


@pytest.fixture(scope="module")
def registered_tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("configs")
    (folder / f"{TINY_NAME}.json").write_text(json.dumps(TINY_MODEL_CFG))
    open_clip.add_model_config(folder / f"{TINY_NAME}.json")
    return TINY_NAME


def test_offline_default_fails_fast_with_instructions(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailable) as caught:
        load_model(DEFAULT_MODEL, DEFAULT_PRETRAINED, device="cpu")
    assert time.monotonic() - start < 5
    message = caught.value.user_message
    assert "--pretrained" in message and "local-dir:" in message


def test_unreachable_hub_fails_fast_without_offline_flag(tmp_path):
    """No HF_HUB_OFFLINE, download host refuses connections: seconds, not a minute of retries."""
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path)}
    env = {k: v for k, v in env.items() if "proxy" not in k.lower()}
    code = (
        "from classifier.model import load_model\n"
        "from classifier.errors import WeightsUnavailable\n"
        "try:\n    load_model(device='cpu')\n"
        "except WeightsUnavailable as e:\n    print('unavailable:', e.user_message)\n"
    )
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    assert "unavailable:" in result.stdout, result.stderr
    assert "127.0.0.1 is unreachable" in result.stdout
    assert elapsed < 30  # interpreter + torch import dominate; open_clip alone retried ~46 s


def test_unknown_tag_lists_known_tags():
    with pytest.raises(WeightsUnavailable) as caught:
        load_model("ViT-B-32-quickgelu", "no-such-tag", device="cpu")
    assert "openai" in caught.value.user_message


def test_unknown_model_and_missing_folder():
    with pytest.raises(WeightsUnavailable):
        load_model("NoSuchNet-9", "openai", device="cpu")
    with pytest.raises(WeightsUnavailable) as caught:
        load_model("local-dir:/nonexistent/folder", device="cpu")
    assert "open_clip_config.json" in caught.value.user_message


def test_checkpoint_file_loads_offline_and_matches_local_dir(registered_tiny, tiny_model_dir, tiny_loaded, tmp_path):
    checkpoint = tmp_path / "tiny.pt"
    torch.save(tiny_loaded.model.state_dict(), checkpoint)
    from_file = load_model(registered_tiny, str(checkpoint), device="cpu")
    assert from_file.identity.startswith(f"{registered_tiny}#")
    assert not from_file.random_weights
    for (name, a), b in zip(from_file.model.state_dict().items(), tiny_loaded.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert tiny_loaded.identity.startswith(f"local-dir:{tiny_model_dir}#")


def test_identity_follows_checkpoint_content(registered_tiny, tiny_loaded, tmp_path):
    state = tiny_loaded.model.state_dict()
    torch.save(state, tmp_path / "a.pt")
    state = {k: v.clone() for k, v in state.items()}
    state["logit_scale"] += 1
    torch.save(state, tmp_path / "b.pt")
    a = load_model(registered_tiny, str(tmp_path / "a.pt"), device="cpu")
    b = load_model(registered_tiny, str(tmp_path / "b.pt"), device="cpu")
    assert a.identity != b.identity


def test_random_weights_are_seeded(registered_tiny):
    a = load_model(registered_tiny, "random", device="cpu")
    b = load_model(registered_tiny, "random", device="cpu")
    assert a.random_weights and a.identity == b.identity
    assert torch.equal(a.model.text_projection, b.model.text_projection)


def test_default_model_matches_openai_quickgelu():
    """OpenAI weights were trained with QuickGELU: the default config must use it."""
    tag = open_clip.get_pretrained_cfg(DEFAULT_MODEL, DEFAULT_PRETRAINED)
    assert tag["quick_gelu"] is True
    assert open_clip.get_model_config(DEFAULT_MODEL)["quick_gelu"] is True


def test_default_architecture_builds_without_quickgelu_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(DEFAULT_MODEL, "random", device="cpu")
    assert not [w for w in caught if "QuickGELU" in str(w.message)]
    assert loaded.image_size == 224 and loaded.precision == "fp32"
