"""The toonzoo command line: classify (text and JSON), evaluate, tiny-model, failures."""

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import warm
from PIL import Image

from bot.cli import build_parser, main
from classifier.cli import evaluation_report, file_progress, parse_label_list, verbosity


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
    code, out, _ = run(
        [
            "classify",
            *paths,
            "--labels",
            "cat, dog,fox",
            "--top-k",
            "2",
            "--json",
            "--model",
            tiny_model_name,
            "--db",
            ":memory:",
        ],
        capsys,
    )
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
    code, out, _ = run(
        ["classify", paths[0], bad, "--labels", "cat,dog", "--model", tiny_model_name, "--db", ":memory:"], capsys
    )
    assert code == 1
    assert "1. " in out and "%" in out
    assert "error: not a JPEG, PNG, WebP, GIF or BMP file" in out


def test_classify_json_error_entry(pictures, tiny_model_name, capsys):
    _, bad = pictures
    code, out, _ = run(["classify", bad, "--json", "--model", tiny_model_name, "--db", ":memory:"], capsys)
    assert code == 1
    assert json.loads(out) == [{"image": bad, "error": "not a JPEG, PNG, WebP, GIF or BMP file"}]


def test_custom_template_changes_scores(pictures, tiny_model_name, capsys):
    paths, _ = pictures
    common = [paths[0], "--labels", "cat,dog", "--json", "--model", tiny_model_name, "--db", ":memory:"]
    _, a, _ = run(["classify", *common], capsys)
    _, b, _ = run(["classify", *common, "--template", "a photo of a {}."], capsys)
    assert json.loads(a)[0]["guesses"] != json.loads(b)[0]["guesses"]


def test_bad_template_is_a_clear_error(pictures, tiny_model_name, capsys):
    paths, _ = pictures
    code, _, err = run(
        ["classify", paths[0], "--template", "no placeholder", "--model", tiny_model_name, "--db", ":memory:"], capsys
    )
    assert code == 2 and "exactly one '{}'" in err


@pytest.mark.slow
def test_offline_default_model_exits_2_with_instructions(pictures):
    paths, _ = pictures
    result = warm.toonzoo("classify", paths[0], "--db", ":memory:", env={**os.environ, "HF_HUB_OFFLINE": "1"})
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
    code, out, _ = run(
        ["evaluate", str(tmp_path / "set"), "--json", "--model", tiny_model_name, "--db", ":memory:"], capsys
    )
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


@pytest.mark.slow
def test_tiny_model_command_then_console_script(tmp_path, pictures):
    """Fresh-checkout path: write a tiny checkpoint, classify with the installed `toonzoo` script (a real
    interpreter start, as in a shell)."""
    script = shutil.which("toonzoo", path=str(Path(sys.executable).parent))
    assert script, "the toonzoo console script is installed next to the interpreter"
    folder = tmp_path / "tiny"
    made = warm.toonzoo("tiny-model", str(folder))
    assert made.returncode == 0 and (folder / "open_clip_config.json").is_file()
    paths, _ = pictures
    result = subprocess.run(
        [script, "classify", paths[0], "--model", f"local-dir:{folder}", "--json", "--db", str(tmp_path / "cache.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)[0]["guesses"]) == 5


COMMAND_ARGS = {
    "classify": ["x.png"],
    "evaluate": ["DIR"],
    "tiny-model": ["DIR"],
    "models": [],
    "run": [],
    "try": [],
    "serve": [],
}


def test_every_command_takes_v_before_and_after_its_name():
    parser, commands = build_parser()
    assert set(commands) == set(COMMAND_ARGS)
    for name, rest in COMMAND_ARGS.items():
        assert verbosity(parser.parse_args([name, *rest])) == 0
        assert verbosity(parser.parse_args([name, "-v", *rest])) == 1, name
        assert verbosity(parser.parse_args(["-v", name, *rest])) == 1, name
        assert verbosity(parser.parse_args(["-v", name, *rest, "-v"])) == 2, name


@pytest.mark.parametrize(
    "argv",
    [
        ["--top-k", "0"],
        ["--top-k", "-1"],
        ["--top-k", "two"],
        ["--labels", ""],
        ["--labels", " , ,"],
        ["--labels", "cat"],
        ["--labels", "cat,cat"],
    ],
)
def test_bad_classify_options_are_usage_errors(argv, pictures, capsys):
    paths, _ = pictures
    with pytest.raises(SystemExit) as stopped:
        main(["classify", paths[0], *argv, "--db", ":memory:"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and ("--top-k" in err or "--labels" in err)


@pytest.fixture
def not_sqlite(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    return str(path)


@pytest.mark.parametrize("command", ["classify", "evaluate"])
def test_bad_db_is_one_line(command, pictures, not_sqlite, tmp_path, tiny_model_name, capsys):
    paths, _ = pictures
    for i, path in enumerate(paths):
        (tmp_path / "set" / f"label{i}").mkdir(parents=True)
        shutil.copy(path, tmp_path / "set" / f"label{i}")
    target = [paths[0]] if command == "classify" else [str(tmp_path / "set")]
    for db in ["/proc/nope/x.db", not_sqlite]:
        code, out, err = run([command, *target, "--model", tiny_model_name, "--db", db], capsys)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith(f"toonzoo: Cannot open the database {db}: ")
        assert "--db" in err


def test_evaluate_without_a_readable_image_fails(tmp_path, tiny_model_name, capsys):
    for label in ("cat", "dog"):
        (tmp_path / "set" / label).mkdir(parents=True)
        (tmp_path / "set" / label / "1.png").write_bytes(b"not a png")
    code, out, err = run(
        ["evaluate", str(tmp_path / "set"), "--json", "--model", tiny_model_name, "--db", ":memory:"], capsys
    )
    assert code == 1 and out == ""
    assert "no readable image" in err and "2 skipped" in err


def test_classify_and_evaluate_say_once_that_weights_are_random(pictures, tmp_path, tiny_model_name, capsys, caplog):
    paths, _ = pictures
    for label, colour in [("red", (250, 0, 0)), ("blue", (0, 0, 250))]:
        (tmp_path / "set" / label).mkdir(parents=True)
        Image.new("RGB", (40, 40), colour).save(tmp_path / "set" / label / "1.png")
    for argv in (["classify", *paths], ["evaluate", str(tmp_path / "set")]):
        caplog.clear()
        code, _, _ = run([*argv, "--model", tiny_model_name, "--db", ":memory:"], capsys)
        assert code == 0
        said = [r for r in caplog.records if "guesses are meaningless" in r.getMessage()]
        assert len(said) == 1 and said[0].levelno == logging.WARNING


def test_many_files_show_one_progress_line_each_on_stderr(tmp_path, tiny_model_name, capsys):
    paths = []
    for i in range(12):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.new("RGB", (30 + i, 30), (20 * i, 0, 0)).save(paths[-1])
    code, out, err = run(
        ["classify", *paths, "--labels", "cat,dog", "--json", "--model", tiny_model_name, "--db", ":memory:"], capsys
    )
    assert code == 0 and len(json.loads(out)) == 12
    assert err.splitlines() == [f"{i}/12 {path}" for i, path in enumerate(paths, 1)]
    for i in range(3):
        (tmp_path / "set" / f"l{i}").mkdir(parents=True)
        for path in paths[i * 4 : i * 4 + 4]:
            shutil.copy(path, tmp_path / "set" / f"l{i}")
    code, out, err = run(
        ["evaluate", str(tmp_path / "set"), "--json", "--model", tiny_model_name, "--db", ":memory:"], capsys
    )
    assert code == 0 and json.loads(out)["images"] == 12
    assert [line.split(" ")[0] for line in err.splitlines()] == [f"{i}/12" for i in range(1, 13)]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_silent_for_few_files():
    terminal = Terminal()
    with file_progress(12, terminal) as done:
        for i in range(12):
            done(f"{i}.png")
    drawn = terminal.getvalue()
    assert "/12 [" in drawn and "%|" in drawn and "\r" in drawn and ".png" not in drawn
    quiet = io.StringIO()
    with file_progress(3, quiet) as done:
        for i in range(3):
            done(f"{i}.png")
    assert quiet.getvalue() == ""


@pytest.mark.slow
def test_v_shows_toonzoo_progress_and_vv_the_libraries(pictures, tiny_model_name):
    paths, _ = pictures
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    common = ["--model", tiny_model_name, "--db", ":memory:", "--labels", "cat,dog"]
    one = warm.toonzoo("classify", paths[0], "-v", *common, env=env)
    two = warm.toonzoo("-v", "classify", paths[0], "-v", *common, env=env)
    assert one.returncode == 0, one.stderr
    assert (
        "INFO classifier.model: loading " in one.stderr
        and "INFO classifier.pipeline: encoded 2 new labels" in one.stderr
    )
    assert " root: " not in one.stderr  # open_clip logs its steps on the root logger
    assert one.stderr.count("guesses are meaningless") == 1
    assert two.returncode == 0 and " INFO root: " in two.stderr
