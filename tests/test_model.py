"""Model loading through open_clip's factory: local weights, identities, offline failures."""

import json
import logging
import math
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


@pytest.mark.slow
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


def _write_local_dir(folder, config_source, files: dict) -> None:
    """An open_clip folder: the tiny model's config and the given {file name: state dict}."""
    from safetensors.torch import save_file

    folder.mkdir()
    (folder / "open_clip_config.json").write_text((config_source / "open_clip_config.json").read_text())
    for name, state in files.items():
        if name.endswith(".safetensors"):
            save_file({k: v.contiguous() for k, v in state.items()}, str(folder / name))
        else:
            torch.save(state, folder / name)


@pytest.mark.parametrize(
    "names",
    [
        ("open_clip_pytorch_model.bin", "open_clip_pytorch_model.safetensors"),
        ("a.bin", "b.safetensors"),
    ],
)
def test_local_dir_cache_key_is_the_file_open_clip_loads(tiny_model_dir, tiny_loaded, tmp_path, names):
    """A folder holding .bin and .safetensors: open_clip loads the .safetensors, so the identity
    (the label cache's key) must be that file's hash, not the other's."""
    from classifier.model import file_digest

    bin_state = tiny_loaded.model.state_dict()
    safe_state = {k: v.clone() for k, v in bin_state.items()}
    safe_state["logit_scale"] += 1
    folder = tmp_path / "both"
    _write_local_dir(folder, tiny_model_dir, {names[0]: bin_state, names[1]: safe_state})
    loaded = load_model(f"local-dir:{folder}", device="cpu")
    assert torch.equal(loaded.model.logit_scale, safe_state["logit_scale"])  # what open_clip loaded
    assert loaded.identity == f"local-dir:{folder}#{file_digest(folder / names[1])}"


def test_loading_leaves_torch_global_rng_alone(registered_tiny, tiny_model_name):
    torch.manual_seed(1234)
    expected = torch.rand(4)
    torch.manual_seed(1234)
    load_model(registered_tiny, "random", device="cpu")
    load_model(tiny_model_name, device="cpu")
    assert torch.equal(torch.rand(4), expected)


def test_random_weights_do_not_depend_on_the_global_rng(registered_tiny):
    torch.manual_seed(1)
    a = load_model(registered_tiny, "random", device="cpu")
    torch.manual_seed(2)
    torch.rand(100)
    b = load_model(registered_tiny, "random", device="cpu")
    for (name, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(x, y), name


def test_untrained_weights_are_said_once_and_the_log_names_the_weights_file(tiny_model_name, tiny_model_dir, caplog):
    caplog.set_level(logging.INFO, logger="classifier")
    loaded = load_model(tiny_model_name, device="cpu")
    assert loaded.untrained and not loaded.random_weights
    warnings_ = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings_ == [f"the weights of {tiny_model_name} are random (untrained): its guesses are meaningless"]
    text = caplog.text
    assert str(tiny_model_dir / "open_clip_pytorch_model.bin") in text and "openai" not in text


def test_trained_looking_weights_get_no_warning(registered_tiny, tiny_loaded, tmp_path, caplog):
    state = {k: v.clone() for k, v in tiny_loaded.model.state_dict().items()}
    state["logit_scale"].fill_(math.log(100))  # where training leaves OpenAI's and LAION's CLIPs
    torch.save(state, tmp_path / "trained.pt")
    loaded = load_model(registered_tiny, str(tmp_path / "trained.pt"), device="cpu")
    assert not loaded.untrained
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert load_model(registered_tiny, "random", device="cpu").untrained
