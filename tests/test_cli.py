"""The toonzoo command line: classify (text and JSON), evaluate, tiny-model, failures."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from classifier.cli import evaluation_report, parse_label_list

TOONZOO = [sys.executable, "-m", "bot.cli"]


@pytest.fixture
def pictures(tmp_path):
    paths = []
    for i, colour in enumerate([(255, 0, 0), (0, 0, 255)]):
        path = tmp_path / f"p{i}.png"
        Image.new("RGB", (80, 50), colour).save(path)
        paths.append(str(path))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    return paths, str(bad)


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_classify_json_shape_and_scores(pictures, tiny_model_name, capsys):
    paths, _ = pictures
    code, out, _ = run(["classify", *paths, "--labels", "cat, dog,fox", "--top-k", "2", "--json",
                        "--model", tiny_model_name, "--db", ":memory:"], capsys)
    assert code == 0
    results = json.loads(out)
    assert [r["image"] for r in results] == paths
    for result in results:
        guesses = result["guesses"]
        assert len(guesses) == 2
        assert {g["label"] for g in guesses} <= {"cat", "dog", "fox"}
        assert guesses[0]["score"] >= guesses[1]["score"] > 0


def test_classify_table_and_failure_exit_status(pictures, tiny_model_name, capsys):
    paths, bad = pictures
    code, out, _ = run(["classify", paths[0], bad, "--labels", "cat,dog", "--model", tiny_model_name,
                        "--db", ":memory:"], capsys)
    assert code == 1
    assert "1. " in out and "%" in out
    assert "error: That doesn't look like a picture" in out


def test_classify_json_error_entry(pictures, tiny_model_name, capsys):
    _, bad = pictures
    code, out, _ = run(["classify", bad, "--json", "--model", tiny_model_name, "--db", ":memory:"], capsys)
    assert code == 1
    assert json.loads(out) == [{"image": bad, "error": "That doesn't look like a picture. Send a JPEG, PNG, "
                                                       "WebP, GIF or BMP."}]


def test_custom_template_changes_scores(pictures, tiny_model_name, capsys):
    paths, _ = pictures
    common = [paths[0], "--labels", "cat,dog", "--json", "--model", tiny_model_name, "--db", ":memory:"]
    _, a, _ = run(["classify", *common], capsys)
    _, b, _ = run(["classify", *common, "--template", "a photo of a {}."], capsys)
    assert json.loads(a)[0]["guesses"] != json.loads(b)[0]["guesses"]


def test_bad_template_is_a_clear_error(pictures, tiny_model_name, capsys):
    paths, _ = pictures
    code, _, err = run(["classify", paths[0], "--template", "no placeholder", "--model", tiny_model_name,
                        "--db", ":memory:"], capsys)
    assert code == 2 and "exactly one '{}'" in err


def test_offline_default_model_exits_2_with_instructions(pictures):
    paths, _ = pictures
    result = subprocess.run([*TOONZOO, "classify", paths[0], "--db", ":memory:"], capture_output=True, text=True,
                            timeout=120, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "local-dir:" in result.stderr


def test_evaluate_generated_folder(tmp_path, tiny_model_name, capsys):
    for label, colour in [("red_thing", (250, 0, 0)), ("blue thing", (0, 0, 250)), ("green", (0, 250, 0))]:
        folder = tmp_path / "set" / label
        folder.mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (40 + i, 40), colour).save(folder / f"{i}.png")
    (tmp_path / "set" / "green" / "broken.png").write_bytes(b"junk")
    code, out, _ = run(["evaluate", str(tmp_path / "set"), "--json", "--model", tiny_model_name,
                        "--db", ":memory:"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["images"] == 9 and report["labels"] == 3
    assert set(report["recall"]) == {"red thing", "blue thing", "green"}
    assert report["top5"] == 1.0  # three labels: the truth is always in the top 5
    assert len(report["skipped"]) == 1
    code, text, _ = run(["evaluate", str(tmp_path / "set"), "--model", tiny_model_name, "--db", ":memory:"], capsys)
    assert "top-1 accuracy" in text and "recall per label" in text


def test_evaluation_report_counts_confusions():
    report = evaluation_report(
        ["cat", "cat", "dog", "dog"],
        [["cat", "dog"], ["dog", "cat"], ["dog", "cat"], ["cat", "dog"]],
        ["cat", "dog", "fox"],
    )
    assert report["top1"] == 0.5 and report["top5"] == 1.0
    assert report["recall"] == {"cat": 0.5, "dog": 0.5, "fox": None}
    assert {(c["true"], c["predicted"]) for c in report["confused"]} == {("cat", "dog"), ("dog", "cat")}


def test_parse_label_list():
    assert parse_label_list(" cat, dog,,cat , fox ") == ["cat", "dog", "fox"]
    assert len(parse_label_list(None)) >= 30


def test_tiny_model_command_then_console_script(tmp_path, pictures):
    """Fresh-checkout path: write a tiny checkpoint, classify with the installed `toonzoo` script."""
    script = shutil.which("toonzoo", path=str(Path(sys.executable).parent))
    assert script, "the toonzoo console script is installed next to the interpreter"
    folder = tmp_path / "tiny"
    made = subprocess.run([script, "tiny-model", str(folder)], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0 and (folder / "open_clip_config.json").is_file()
    paths, _ = pictures
    result = subprocess.run([script, "classify", paths[0], "--model", f"local-dir:{folder}", "--json",
                             "--db", str(tmp_path / "cache.db")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)[0]["guesses"]) == 5
