"""``python -m toonzoo_tools.bench`` smoke run on the tiny model: every field is there (timings are not judged)."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from toonzoo_tools.bench import main, percentiles, steady_throughput, worker_counts
from toonzoo_tools.drawings import make_drawing_jpeg

FIELDS = {
    "model",
    "random_weights",
    "device",
    "precision",
    "batch_sizes",
    "raw_img_per_s",
    "raw_img_per_s_by_batch",
    "engine_img_per_s",
    "engine_to_raw",
    "bf16_engine_img_per_s",
    "latency_ms",
    "text_cold_s",
    "text_warm_encoder_calls",
    "text_restart_encoder_calls",
    "peak_rss_mb",
    "engine_stats",
    "engine_max_batch",
    "decode_img_per_s",
    "decode_img_per_s_by_workers",
    "gpu_decode_img_per_s",
    "rank_ms_per_picture",
    "rank_added_ms_1000",
    "canvas",
    "matmul_peak_gflops",
    "flops_per_image",
    "raw_fraction_of_peak",
    "auto_precision",
    "int8_engine_img_per_s",
    "fp32_engine_img_per_s",
    "int8_cosine_min",
    "int8_top1_agreement",
    "race_drawers_p95_500ms",
}


@pytest.mark.slow
def test_bench_smoke_run_reports_every_field(tiny_model_name, tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main(["--model", tiny_model_name, "--quick", "--callers", "8", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert result.keys() >= FIELDS
    assert result["random_weights"] is False and result["model"].startswith(tiny_model_name)
    assert result["precision"] == "fp32" and result["device"].startswith("cpu")
    for key in (
        "raw_img_per_s",
        "engine_img_per_s",
        "engine_to_raw",
        "bf16_engine_img_per_s",
        "text_cold_s",
        "peak_rss_mb",
    ):
        assert isinstance(result[key], float) and result[key] > 0, key
    for key in ("c1", "c8", "c32"):
        latency = result["latency_ms"][key]
        assert latency["n"] > 0 and 0 < latency["p50"] <= latency["p95"], key
    canvas = result["canvas"]
    for key in ("c1", "c16"):
        assert canvas[key]["n"] > 0 and 0 < canvas[key]["p50"] <= canvas[key]["p95"], key
        assert canvas[key]["statuses"] == {"200": canvas[key]["statuses"]["200"]}, "every guess answered"
    assert canvas["drawers_at_1_per_s"] >= 1 and canvas["picture_px"] == 512
    assert "canvas drawers at 1 guess/s" in printed
    by_workers = result["decode_img_per_s_by_workers"]
    assert list(by_workers) == [str(n) for n in worker_counts(min(16, os.cpu_count()))]
    assert all(isinstance(rate, float) and rate > 0 for rate in by_workers.values())
    assert result["gpu_decode_img_per_s"] is None  # on a CPU
    assert "decode+preprocess, 1 process(es)" in printed
    assert result["text_cold_encoder_calls"] > 0
    assert result["text_warm_encoder_calls"] == result["text_restart_encoder_calls"] == 0
    assert result["engine_errors"] == 0 and result["engine_stats"]["busy_rejections"] == 0
    assert result["bf16"]["precision"] == "bf16" and result["bf16"]["peak_rss_mb"] > 0
    assert "engine / raw" in printed and "latency, 1 caller" in printed and "after restart" in printed
    assert list(result["rank_ms_per_picture"]) == ["1", "16"]
    assert all(
        list(row) == ["0", "100", "1000"] and min(row.values()) > 0 for row in result["rank_ms_per_picture"].values()
    )
    assert "0 / 100 / 1000 taught" in printed
    check_precision_fields(result, printed)


def check_precision_fields(result: dict, printed: str) -> None:
    """The machine's limit, int8 against fp32, auto's choice and the race's load."""
    assert set(result["matmul_peak_gflops"]) == {"fp32", "bf16", "fp16", "int8"}
    assert all(peak > 0 for peak in result["matmul_peak_gflops"].values())
    assert result["flops_per_image"] > 1e6  # the tiny model: ~10 MFLOP a 64 px picture
    assert 0 < result["raw_fraction_of_peak"] == result["raw_fraction_of_peak_by_precision"]["fp32"]
    assert result["fp32_engine_img_per_s"] == result["engine_img_per_s"]
    assert result["int8"]["precision"] == "int8" and result["int8_engine_img_per_s"] > 0
    assert result["int8_cosine_min"] >= 0.99 and 0.9 <= result["int8_top1_agreement"] <= 1
    assert result["auto_precision"] == "fp32" and result["auto_engine_img_per_s"] == result["engine_img_per_s"]
    race = result["race_drawers_p95_500ms"]
    assert set(race) == {f"{result['model_name']}/fp32", f"{result['model_name']}/bf16", f"{result['model_name']}/int8"}
    assert result["race_load_tool"].startswith("toonzoo_tools.canvas_load")
    for row in ("matmul peak fp32", "FLOPs per picture", "int8 engine", "lowest cosine", "precision=auto chooses"):
        assert row in printed, row


def test_drawing_picture_is_a_realistic_jpeg():
    data = make_drawing_jpeg(3)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (1280, 960)
    assert 50_000 < len(data) < 2_000_000
    assert data != make_drawing_jpeg(4)


def test_steady_throughput_counts_whole_batches_only():
    log = [(0.0, 16), (1.0, 16), (2.0, 16), (3.0, 16), (3.5, 4)]
    assert steady_throughput(log, since=0.5, until=3.2) == (16.0, 2)
    assert steady_throughput(log, since=0.0, until=10) == ((16 * 3 + 4) / 3.5, 4)
    assert steady_throughput(log, since=3.1, until=3.2) == (0.0, 0)


def test_worker_counts():
    assert worker_counts(1) == [1]
    assert worker_counts(2) == [1, 2]
    assert worker_counts(6) == [1, 2, 4, 6]
    assert worker_counts(16) == [1, 2, 4, 8, 16]


def test_percentiles():
    assert percentiles([]) == {"p50": None, "p95": None, "n": 0}
    result = percentiles([float(v) for v in range(1, 101)])
    assert result["n"] == 100 and 50 <= result["p50"] <= 51 and 95 <= result["p95"] <= 96


@pytest.mark.slow
def test_bench_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "toonzoo_tools.bench", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: python -m toonzoo_tools.bench" in result.stdout
    for flag in (
        "--quick",
        "--skip-bf16",
        "--skip-int8",
        "--batch-sizes",
        "--callers",
        "--max-batch",
        "--decode-workers",
        "--json",
    ):
        assert flag in result.stdout, flag
