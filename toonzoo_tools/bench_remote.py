"""The remote engine's cost: the same pictures in-process and through ``toonzoo serve``, in one run.

    python -m toonzoo_tools.bench_remote --model ViT-B-32-quickgelu --pretrained random --json remote.json

Measures, for the in-process ``Engine``, then a Ray Serve service with one replica, then with two, then
the in-process ``Engine`` again (the load of a shared machine drifts; the ratios use both in-process runs):
one caller's p50 latency (pictures sent one after another), and throughput with 32 callers at once
(pictures per second), with the answers per replica. The ratios are what to read: the absolute
numbers depend on the machine. See docs/scaling.md.
"""

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from classifier.defaults import MAX_BATCH, MAX_WAIT_MS
from classifier.engine import Engine
from classifier.pipeline import load_classifier
from classifier.prompts import DEFAULT_LABELS
from classifier.remote import RemoteClassifier, RemoteEngine

from .drawings import make_drawing_jpeg

LABELS = list(DEFAULT_LABELS)
PORT = 8766


async def measure(engine, pictures: list[bytes], sequential: int, callers: int, rounds: int) -> dict:
    """One caller's latencies, then ``callers`` callers sending ``rounds`` pictures each."""
    await engine.prepare_labels(LABELS, "en")
    for picture in pictures[:4]:  # warm up
        await engine.classify(picture, LABELS, 3, "en")
    latencies = []
    for index in range(sequential):
        began = time.perf_counter()
        await engine.classify(pictures[index % len(pictures)], LABELS, 3, "en")
        latencies.append((time.perf_counter() - began) * 1000)

    async def caller(offset: int) -> None:
        for index in range(rounds):
            await engine.classify(pictures[(offset + index) % len(pictures)], LABELS, 3, "en")

    began = time.perf_counter()
    await asyncio.gather(*(caller(offset) for offset in range(callers)))
    elapsed = time.perf_counter() - began
    return {
        "p50_ms": round(statistics.median(latencies), 1),
        "p90_ms": round(statistics.quantiles(latencies, n=10)[-1], 1),
        "throughput_per_s": round(callers * rounds / elapsed, 2),
    }


async def in_process(args, pictures) -> dict:
    classifier = load_classifier(
        args.model, args.pretrained, device=args.device, precision=args.precision, db_path=":memory:"
    )
    async with Engine(classifier, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms) as engine:
        return await measure(engine, pictures, args.sequential, args.callers, args.rounds)


async def remote(url: str, args, pictures) -> dict:
    classifier = RemoteClassifier.connect(url)
    async with RemoteEngine(classifier) as engine:
        result = await measure(engine, pictures, args.sequential, args.callers, args.rounds)
        result["answers_per_replica"] = sorted(Counter(classifier.embedder.replicas).values(), reverse=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ViT-B-32-quickgelu")
    parser.add_argument("--pretrained", default="random")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", help="the same on both sides (auto could choose apart)")
    parser.add_argument("--max-batch", type=int, default=MAX_BATCH)
    parser.add_argument("--max-wait-ms", type=float, default=MAX_WAIT_MS)
    parser.add_argument("--replicas", default="1,2", help="service replica counts to measure, in order")
    parser.add_argument("--sequential", type=int, default=40, help="pictures sent one after another")
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5, help="pictures per caller")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    pictures = [make_drawing_jpeg(seed) for seed in range(16)]

    import ray
    from ray import serve

    from classifier.serve import ServiceOptions, default_torch_threads, start_service

    results: dict = {"model": args.model, "pretrained": args.pretrained}
    results["in_process"] = asyncio.run(in_process(args, pictures))
    print("in-process", results["in_process"], file=sys.stderr)
    ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    try:
        for replicas in map(int, args.replicas.split(",")):
            options = ServiceOptions(
                model=args.model,
                pretrained=args.pretrained,
                device=args.device,
                precision=args.precision,
                max_batch=args.max_batch,
                max_wait_ms=args.max_wait_ms,
                replicas=replicas,
                torch_threads=default_torch_threads(replicas, 0),
            )
            start_service(options, port=PORT)
            results[f"service_{replicas}_replica"] = asyncio.run(remote(f"http://127.0.0.1:{PORT}", args, pictures))
            print(f"{replicas} replica(s)", results[f"service_{replicas}_replica"], file=sys.stderr)
    finally:
        serve.shutdown()
        ray.shutdown()
    # In-process again once Ray is gone: the machine's load drifts, so the service is compared with both.
    results["in_process_after"] = asyncio.run(in_process(args, pictures))
    print("in-process after", results["in_process_after"], file=sys.stderr)
    before, after, one = results["in_process"], results["in_process_after"], results.get("service_1_replica")
    if one:
        near_p50 = (before["p50_ms"] + after["p50_ms"]) / 2
        near_rate = (before["throughput_per_s"] + after["throughput_per_s"]) / 2
        results["p50_overhead_ms"] = round(one["p50_ms"] - near_p50, 1)
        results["throughput_ratio_1_replica"] = round(one["throughput_per_s"] / near_rate, 3)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
