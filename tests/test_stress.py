"""Smoke run of scripts/stress.py: many chats at once with faults, nothing lost or doubled."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "stress.py"


def load_script():
    spec = importlib.util.spec_from_file_location("stress", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_many_chats_with_faults_every_picture_answered_once(tmp_path, tiny_model_name):
    stress = load_script()
    out = tmp_path / "stress.json"
    code = stress.main(["--model", tiny_model_name, "--chats", "12", "--pictures", "2", "--faults",
                        "--timeout", "120", "--json", str(out)])
    summary = json.loads(out.read_text())
    assert code == 0
    assert summary["pictures_sent"] == 24
    assert summary["missing"] == 0 and summary["duplicated"] == 0
    assert summary["answered_guesses"] + summary["answered_busy"] == 24
    assert summary["faults_injected"] >= 7
    assert summary["loop_samples"] > 0 and summary["worst_loop_stall_ms"] >= 0
