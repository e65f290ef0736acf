"""Import boundaries, each checked in a fresh interpreter through ``sys.modules``.

``classifier`` knows nothing of Telegram, the bot or the tools; ``bot``'s modules
load no torch, except the wiring that builds the engine; its pure logic loads no
Telegram either.
"""

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bot
import classifier

NEEDS_TORCH = {"bot.app"}  # builds the engine
PURE = ["bot.budget", "bot.game", "bot.labels", "bot.prompts", "bot.recent", "bot.replies"]


def modules_of(package) -> list[str]:
    """The package and every module in it (``__main__`` runs a command when imported: left out)."""
    found = [package.__name__]
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith(".__main__"):
            found.append(module.name)
    return found


def loaded_after_import(module: str, roots: list[str]) -> list[str]:
    """Which of ``roots`` (top-level packages) importing ``module`` loads, in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({roots!r}))))\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_lists_name_real_modules():
    assert {"classifier.engine", "classifier.model", "classifier.zero_shot"} <= set(modules_of(classifier))
    assert NEEDS_TORCH | set(PURE) <= set(modules_of(bot))


@pytest.mark.parametrize("module", modules_of(classifier))
def test_classifier_loads_no_telegram_bot_or_tools(module):
    assert loaded_after_import(module, ["telegram", "bot", "toonzoo_tools"]) == []


@pytest.mark.parametrize("module", [m for m in modules_of(bot) if m not in NEEDS_TORCH])
def test_bot_modules_load_no_torch(module):
    assert loaded_after_import(module, ["torch", "open_clip"]) == []


@pytest.mark.parametrize("module", PURE)
def test_pure_bot_logic_loads_no_telegram(module):
    assert loaded_after_import(module, ["telegram", "torch"]) == []


def test_the_check_sees_what_an_import_loads():
    assert loaded_after_import("bot.app", ["torch", "telegram", "bot"]) == ["bot", "telegram", "torch"]
