"""The import rules are import-linter contracts (``[tool.importlinter]`` in pyproject.toml, run by ``.ci/run``).

What a contract cannot say: the imports it excuses in ``bot`` (the command line's, the taught
examples') happen inside functions or under ``TYPE_CHECKING`` only, so loading the bot, its
command line included, still loads no torch. One fresh interpreter checks that.
"""

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import bot

WIRING = {"bot.app"}  # builds the engine: loads torch by design
HEAVY = ["torch", "open_clip"]


def test_loading_the_bot_loads_no_torch():
    modules = [
        module.name
        for module in pkgutil.walk_packages(bot.__path__, "bot.")
        if module.name not in WIRING and not module.name.endswith(".__main__")
    ]
    assert {"bot.cli", "bot.services", "bot.telegram_io", "bot.handlers"} <= set(modules)
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({[*HEAVY, 'bot']!r}))))\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["bot"]  # "bot": the check saw the imports happen
