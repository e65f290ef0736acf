"""The command line as a newcomer meets it: run as a subprocess, offline, the way a shell runs it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import warm
from PIL import Image

from bot.cli import build_parser

TOONZOO = [sys.executable, "-m", "bot.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def toonzoo(*args: str) -> subprocess.CompletedProcess:
    """``toonzoo *args`` in a process of its own, forked from a warm interpreter (``helpers.warm``)."""
    return warm.toonzoo(*args, env=ENV)


@pytest.fixture
def drawing(tmp_path) -> str:
    path = tmp_path / "drawing.png"
    Image.new("RGB", (60, 40), (200, 30, 30)).save(path)
    return str(path)


def labelled_folder(root: Path, pictures: dict[str, int]) -> Path:
    """``root/set/<label>/<i>.png`` with the given number of pictures per label."""
    for n, (label, count) in enumerate(pictures.items()):
        (root / "set" / label).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (40 + i, 40), (30 * n, 200 - 20 * n, 10 * i)).save(root / "set" / label / f"{i}.png")
    return root / "set"


@pytest.mark.slow
def test_toonzoo_alone_lists_its_commands():
    result = toonzoo()
    assert result.returncode == 2 and result.stdout == ""
    _, commands = build_parser()
    for name in commands:
        assert f"    {name} " in result.stderr, name
    assert "classify     guess what pictures show" in result.stderr
    assert "required" not in result.stderr


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly():
    """``toonzoo models | head -1``: the reader is gone before toonzoo writes (the worst case of that race)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*TOONZOO, "models"], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, env=ENV
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 1


@pytest.mark.slow
def test_file_errors_are_worded_for_files(tmp_path, tiny_model_name):
    empty, text, small = tmp_path / "empty.png", tmp_path / "notes.png", tmp_path / "small.png"
    empty.write_bytes(b"")
    text.write_text("not a picture")
    Image.new("RGB", (10, 8), "white").save(small)
    result = toonzoo("classify", str(empty), str(text), str(small), "--model", tiny_model_name, "--db", ":memory:")
    assert result.returncode == 1
    assert f"{empty}\n  error: empty file\n" in result.stdout
    assert f"{text}\n  error: not a JPEG, PNG, WebP, GIF or BMP file\n" in result.stdout
    assert f"{small}\n  error: picture too small: 10×8 pixels (at least 16 a side)" in result.stdout
    for chat_words in ("Send", "send", "Could you", "That "):
        assert chat_words not in result.stdout


@pytest.mark.slow
def test_a_checkpoint_for_another_architecture_says_what_it_fits(tmp_path, tiny_model_dir, drawing):
    checkpoint = tmp_path / "tiny.bin"
    shutil.copy(Path(tiny_model_dir) / "open_clip_pytorch_model.bin", checkpoint)
    result = toonzoo("classify", drawing, "--model", "ViT-B-32-quickgelu", "--pretrained", str(checkpoint))
    assert result.returncode == 2
    assert "pos_embed" not in result.stderr and "Traceback" not in result.stderr
    assert f"the checkpoint {checkpoint} fits no open_clip model config (image 64 px, patch 16" in result.stderr


def test_a_checkpoints_shapes_name_its_open_clip_models():
    import open_clip
    import torch
    from open_clip.model import CLIP

    from classifier.checkpoints import checkpoint_fits, models_fitting

    with torch.device("meta"):  # shapes only: no memory, no time
        state_dict = CLIP(**open_clip.get_model_config("ViT-B-16")).state_dict()
    assert models_fitting(state_dict) == ["ViT-B-16", "ViT-B-16-quickgelu"]
    assert not checkpoint_fits(state_dict, open_clip.get_model_config("ViT-B-32-quickgelu"))
    assert checkpoint_fits(state_dict, open_clip.get_model_config("ViT-B-16-quickgelu"))


@pytest.mark.slow
def test_random_weights_are_named_once(drawing):
    result = toonzoo(
        "classify", drawing, "--model", "ViT-B-32-quickgelu", "--pretrained", "random", "--labels", "cat,dog"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") == 1 and "random (untrained)" in result.stderr
    assert "initialized randomly" not in result.stderr


@pytest.mark.slow
def test_evaluate_reports_a_label_without_a_readable_picture_and_the_skipped_files(tmp_path, tiny_model_name):
    folder = labelled_folder(tmp_path, {"cat": 2, "dog": 2})
    (folder / "fox").mkdir()
    (folder / "fox" / "1.png").write_bytes(b"")
    (folder / "owl").mkdir()
    (folder / "owl" / "owl.tiff").write_bytes(b"II*\x00")
    result = toonzoo("evaluate", str(folder), "--model", tiny_model_name, "--db", ":memory:")
    assert result.returncode == 0, result.stderr
    assert "ignored folder(s) without a JPEG, PNG, WebP, GIF or BMP file: owl" in result.stderr
    assert "  fox  no readable picture" in result.stdout
    assert f"skipped (1):\n  {folder / 'fox' / '1.png'}: empty file" in result.stdout
    assert "no readable picture for the label(s) fox" in result.stderr


@pytest.mark.slow
def test_evaluate_shows_top_5_only_with_more_than_5_labels(tmp_path, tiny_model_name):
    three = toonzoo(
        "evaluate", str(labelled_folder(tmp_path / "3", dict.fromkeys("abc", 1))), "--model", tiny_model_name
    )
    six = toonzoo(
        "evaluate", str(labelled_folder(tmp_path / "6", dict.fromkeys("abcdef", 1))), "--model", tiny_model_name
    )
    assert three.returncode == six.returncode == 0, three.stderr + six.stderr
    assert "top-1 accuracy" in three.stdout and "top-5" not in three.stdout
    assert "top-1 accuracy" in six.stdout and "top-5 accuracy" in six.stdout


@pytest.mark.slow
def test_evaluate_shots_says_how_many_pictures_a_label_needs(tmp_path, tiny_model_name):
    folder = labelled_folder(tmp_path, {"cat": 3, "dog": 2, "owl": 1})
    result = toonzoo("evaluate", str(folder), "--shots", "2", "--model", tiny_model_name, "--db", ":memory:")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "toonzoo: --shots 2 needs at least 3 pictures in each label's folder (2 to teach, at least one to "
        "evaluate on); too few in: dog (2), owl (1)\n"
    )
    assert "at least K+1 pictures" in toonzoo("evaluate", "-h").stdout


@pytest.mark.slow
def test_spanish_labels_on_an_english_only_model_get_the_labels_warning(
    drawing, tiny_model_name, tiny_multilingual_dir
):
    english = toonzoo("classify", drawing, "--labels", "gato,perro,fox", "--model", tiny_model_name, "--db", ":memory:")
    assert english.returncode == 0, english.stderr
    assert "This model reads English labels best; «gato», «perro» may be guessed poorly." in english.stderr
    assert "--model multilingual" in english.stderr
    many = toonzoo(
        "classify",
        drawing,
        "--labels",
        "gato,perro",
        "--language",
        "es",
        "--model",
        f"local-dir:{tiny_multilingual_dir}",
    )
    assert many.returncode == 0, many.stderr
    assert "English labels" not in many.stderr


def test_every_option_of_every_command_has_help():
    _, commands = build_parser()
    for name, parser in commands.items():
        for action in parser._actions:
            assert action.help, f"toonzoo {name} {'/'.join(action.option_strings) or action.dest} has no help"


@pytest.mark.slow
def test_the_settings_line_of_a_local_dir_model_names_no_weights_tag(tiny_model_name):
    env = {
        "TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35,
        "TELEGRAM_BOT_API_URL": "http://127.0.0.1:9",  # nothing listens: the bot stops right after loading
    }
    result = warm.toonzoo("run", "--model", tiny_model_name, "--db", ":memory:", env={**ENV, **env})
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if "starting with Settings(" in line]
    assert f"model='{tiny_model_name}'" in line and "pretrained=" not in line
