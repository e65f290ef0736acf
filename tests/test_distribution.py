"""The product ships ``bot`` and ``classifier`` only: the tools stay in the repository."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = {"bot", "classifier"}


def test_the_wheel_holds_only_bot_and_classifier(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in (*PRODUCT, "toonzoo_tools"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("toonzoo-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == PRODUCT
    assert "bot/webapp/static/draw.html" in names  # package data still comes along
    assert "bot/data/quickdraw/categories.txt" in names and "bot/data/quickdraw/NOTICE" in names
    assert {"bot/fonts/DejaVuSans.ttf", "bot/fonts/DejaVuSans-Bold.ttf", "bot/fonts/LICENSE"} <= set(names)


def test_the_docker_image_copies_only_bot_and_classifier():
    lines = re.findall(r"^COPY (.+)$", (ROOT / "Dockerfile").read_text(), re.M)
    packages = {name for line in lines for name in line.split()[:-1] if (ROOT / name).is_dir()}
    assert packages == PRODUCT
