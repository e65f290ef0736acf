"""Model presets: known to open_clip, resolved by name, listed by `toonzoo models` with their cache state."""

import os
import subprocess
import sys
import time
from pathlib import Path

import open_clip
import pytest
from huggingface_hub import constants

from bot.cli import main
from bot.config import Settings
from classifier.defaults import DEFAULT_MODEL, DEFAULT_PRETRAINED
from classifier.errors import WeightsUnavailable
from classifier.model import is_cached, load_model
from classifier.presets import (
    DEFAULT_PRESET,
    PRESETS,
    default_pretrained,
    get_preset,
    model_languages,
    model_reads,
    resolve_model,
)

TOONZOO = [sys.executable, "-m", "bot.cli"]
TOKEN = "123456789:AAH4sEcReT-tOkEn_abcdefghijklmnopqrs"


def test_every_preset_is_a_model_and_tag_open_clip_knows():
    known = set(open_clip.list_pretrained())
    for preset in PRESETS:
        assert (preset.model, preset.pretrained) in known, preset
        assert open_clip.get_pretrained_cfg(preset.model, preset.pretrained).get("hf_hub"), preset


def test_the_default_preset_is_the_default_model():
    preset = get_preset(DEFAULT_PRESET)
    assert (preset.model, preset.pretrained) == (DEFAULT_MODEL, DEFAULT_PRETRAINED)
    assert [preset.name for preset in PRESETS] == ["openai", "drawings", "multilingual", "multilingual-best", "fast"]


@pytest.mark.parametrize(
    ("model", "pretrained", "resolved"),
    [
        ("drawings", None, ("ViT-B-32-256", "datacomp_s34b_b86k")),
        ("Drawings", None, ("ViT-B-32-256", "datacomp_s34b_b86k")),
        ("multilingual", None, ("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k")),
        ("multilingual-best", None, ("ViT-B-16-SigLIP-i18n-256", "webli")),
        ("openai", None, ("ViT-B-32-quickgelu", "openai")),
        ("fast", None, ("MobileCLIP2-S0", "dfndr2b")),
        ("drawings", "/weights/b32.pt", ("ViT-B-32-256", "/weights/b32.pt")),  # an explicit --pretrained wins
        ("drawings", "random", ("ViT-B-32-256", "random")),
        ("ViT-B-32-quickgelu", None, ("ViT-B-32-quickgelu", "openai")),
        ("ViT-B-32", "laion2b_s34b_b79k", ("ViT-B-32", "laion2b_s34b_b79k")),
        ("local-dir:/models/tiny", None, ("local-dir:/models/tiny", "openai")),
    ],
)
def test_resolve_model(model, pretrained, resolved):
    assert resolve_model(model, pretrained) == resolved


def test_languages_a_model_reads():
    assert model_languages("openai") == ("en",) and model_languages("drawings") == ("en",)
    assert model_reads("openai", "en-GB") and not model_reads("openai", "es") and not model_reads("drawings", "ru")
    for name in ("multilingual", "multilingual-best", "xlm-roberta-base-ViT-B-32", "ViT-B-16-SigLIP-i18n-256"):
        assert model_reads(name, "es-419") and model_reads(name, "ru"), name
    assert not model_reads("ViT-B-32-256", "es") and not model_reads("local-dir:/models/tiny", "ru")


def test_settings_take_a_preset_name():
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TOONZOO_MODEL": "drawings"})
    assert (settings.model, settings.pretrained) == ("drawings", "datacomp_s34b_b86k")
    explicit = {"TELEGRAM_BOT_TOKEN": TOKEN, "TOONZOO_MODEL": "drawings", "TOONZOO_PRETRAINED": "/w/b32.pt"}
    assert Settings.from_env(explicit).pretrained == "/w/b32.pt"
    assert default_pretrained("multilingual") == "laion5b_s13b_b90k" and default_pretrained("ViT-B-32") == "openai"


def cache_file(cache: Path, repo_id: str, filename: str) -> None:
    """Lay out one file as huggingface_hub's cache does: a snapshot named by the commit refs/main points at."""
    folder = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / filename).write_bytes(b"stand-in")


def test_cache_state_comes_from_the_local_hub_cache(tmp_path):
    drawings, multilingual = get_preset("drawings"), get_preset("multilingual")
    assert not is_cached(drawings.model, drawings.pretrained, cache_dir=str(tmp_path))
    cache_file(tmp_path, "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K", "open_clip_pytorch_model.bin")
    assert is_cached(drawings.model, drawings.pretrained, cache_dir=str(tmp_path))

    # A Hugging Face text tower needs its config and tokenizer as well as the CLIP weights.
    cache_file(tmp_path, "laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k", "open_clip_pytorch_model.bin")
    assert not is_cached(multilingual.model, multilingual.pretrained, cache_dir=str(tmp_path))
    cache_file(tmp_path, "xlm-roberta-base", "config.json")
    cache_file(tmp_path, "xlm-roberta-base", "tokenizer.json")
    assert is_cached(multilingual.model, multilingual.pretrained, cache_dir=str(tmp_path))


def test_models_command_prints_every_preset_and_its_cache_state(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    cache_file(tmp_path, "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K", "open_clip_model.safetensors")
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and get_preset(line.split()[0])}
    assert set(rows) == {preset.name for preset in PRESETS}
    for preset in PRESETS:
        row = rows[preset.name]
        assert preset.model in row and preset.pretrained in row
        assert f"{preset.imagenet_sketch:.1f}" in row and f"{preset.imagenet_r:.1f}" in row
        assert f"{preset.image_gflops:.1f}" in row
        assert row.rstrip().endswith("yes" if preset.name == "drawings" else "no"), row
    assert "(default)" in rows["openai"] and "many" in rows["multilingual"]
    assert "openclip_results.csv" in out
    assert "Apple's own licence" in out and "apple/ml-mobileclip" in out  # the fast preset's source and licence

    assert main(["models", "--json"]) == 0
    listed = __import__("json").loads(capsys.readouterr().out)
    assert [(row["preset"], row["cached"]) for row in listed] == [
        ("openai", False),
        ("drawings", True),
        ("multilingual", False),
        ("multilingual-best", False),
        ("fast", False),
    ]


@pytest.mark.parametrize("name", ["drawings", "multilingual", "multilingual-best", "fast"])
def test_offline_presets_fail_within_a_second(name, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    preset = get_preset(name)
    started = time.monotonic()
    with pytest.raises(WeightsUnavailable) as caught:
        load_model(name, device="cpu")
    assert time.monotonic() - started < 1
    assert f"{preset.model}/{preset.pretrained}" in caught.value.user_message


def test_offline_text_tower_files_are_asked_for_by_name(tmp_path, monkeypatch):
    """Cached CLIP weights are not enough for a Hugging Face text tower: its config and tokenizer are named."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    cache_file(tmp_path, "laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k", "open_clip_pytorch_model.bin")
    with pytest.raises(WeightsUnavailable) as caught:
        load_model("multilingual", device="cpu")
    assert "the text tower of xlm-roberta-base-ViT-B-32 (xlm-roberta-base)" in caught.value.user_message


@pytest.mark.slow
def test_offline_preset_fails_fast_naming_its_weights(tmp_path):
    picture = tmp_path / "x.png"
    picture.write_bytes(b"\x89PNG not really")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "empty-cache")}
    env.pop("TOONZOO_PRETRAINED", None)
    env.pop("TOONZOO_MODEL", None)
    started = time.monotonic()
    result = subprocess.run(
        [*TOONZOO, "classify", "--model", "drawings", str(picture), "--db", ":memory:"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert time.monotonic() - started < 60  # the interpreter and torch start; no network wait on top
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = result.stderr
    assert "ViT-B-32-256" in message and "datacomp_s34b_b86k" in message
    assert "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K" in message
    assert "--pretrained /path/to/model.pt" in message and "local-dir:" in message
