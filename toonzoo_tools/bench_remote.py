"""The remote engine's cost: the same pictures in-process and through ``toonzoo serve``, in one run.

    python -m toonzoo_tools.bench_remote --model ViT-B-32-quickgelu --pretrained random --json remote.json

The in-process ``Engine`` and a Ray Serve service with one replica are measured side by side, their
turns interleaved, because the load of a shared machine drifts within seconds: one caller's latency
(pictures sent one after another, in-process and remote in turn; the p50 of the paired differences),
then throughput with 32 callers at once (pictures per second, in turns, twice each), with the CPU each
kind of process spent per picture (read from ``/proc``: the ratio that load on the machine moves
least) and the service's mean batch. Then two replicas: how the pictures spread over them. The
ratios are what to read: the absolute numbers depend on the machine. See docs/scaling.md.
"""

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from classifier.defaults import MAX_WAIT_MS
from classifier.engine import Engine
from classifier.pipeline import load_classifier
from classifier.prompts import DEFAULT_LABELS
from classifier.remote import RemoteClassifier, RemoteEmbedder, RemoteEngine

from .drawings import make_drawing_jpeg

LABELS = list(DEFAULT_LABELS)
PORT = 8766


_KINDS = (("ServeReplica", "replica"), ("ProxyActor", "proxy"), ("ServeController", "controller"))


def process_cpu_s() -> dict[str, float]:
    """CPU seconds used so far by this process and everything it started (Ray's processes), by kind.

    Read from ``/proc`` (Linux): the kinds are this process ("client"), the replicas, Ray Serve's
    HTTP proxy and controller, and the rest of Ray (raylet, GCS, idle workers)."""
    parents: dict[int, int] = {}
    usage: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            name = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        usage[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    mine = {os.getpid()}
    while True:  # descendants, generation by generation
        grown = mine | {pid for pid, parent in parents.items() if parent in mine}
        if grown == mine:
            break
        mine = grown
    totals: dict[str, float] = {}
    for pid in mine:
        name, seconds = usage[pid]
        kind = "client" if pid == os.getpid() else next((k for part, k in _KINDS if part in name), "ray other")
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


async def one_caller(engines: dict, pictures: list[bytes], count: int) -> dict:
    """Each engine's latencies (ms), the engines taking turns picture by picture."""
    latencies: dict[str, list[float]] = {name: [] for name in engines}
    for index in range(count):
        for name, engine in engines.items():
            began = time.perf_counter()
            await engine.classify(pictures[index % len(pictures)], LABELS, 3, "en")
            latencies[name].append((time.perf_counter() - began) * 1000)
    return latencies


async def many_callers(engine, pictures: list[bytes], callers: int, rounds: int) -> tuple[float, dict[str, float]]:
    """Pictures per second with ``callers`` callers sending ``rounds`` pictures each, and CPU seconds by kind."""

    async def caller(offset: int) -> None:
        for index in range(rounds):
            await engine.classify(pictures[(offset + index) % len(pictures)], LABELS, 3, "en")

    began, cpu = time.perf_counter(), process_cpu_s()
    await asyncio.gather(*(caller(offset) for offset in range(callers)))
    elapsed = time.perf_counter() - began
    used = {kind: seconds - cpu.get(kind, 0.0) for kind, seconds in process_cpu_s().items()}
    return callers * rounds / elapsed, used


def mean_batch(embedder: RemoteEmbedder) -> float:
    batches = embedder.batches  # answers per batch size
    return round(sum(size * n for size, n in batches.items()) / max(1, batches.total()), 1)


async def side_by_side(url: str, args, pictures: list[bytes]) -> dict:
    """In-process and one replica at ``url``, in turns."""
    classifier = load_classifier(
        args.model, args.pretrained, device=args.device, precision=args.precision, db_path=":memory:"
    )
    local = Engine(classifier, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms)
    far = RemoteEngine(await asyncio.to_thread(RemoteClassifier.connect, url))
    engines: dict[str, Engine | RemoteEngine] = {"in_process": local, "service": far}
    async with local, far:
        for engine in engines.values():
            await engine.prepare_labels(LABELS, "en")
            await one_caller({"warm-up": engine}, pictures, 4)
        latencies = await one_caller(engines, pictures, args.sequential)
        rates: dict[str, list[float]] = {name: [] for name in engines}
        cpu: dict[str, defaultdict[str, float]] = {name: defaultdict(float) for name in engines}
        for _ in range(args.turns):
            for name, engine in engines.items():
                rate, used = await many_callers(engine, pictures, args.callers, args.rounds)
                rates[name].append(round(rate, 2))
                for kind, seconds in used.items():
                    cpu[name][kind] += seconds
        pictures_sent = args.turns * args.callers * args.rounds
        result: dict = {
            name: {
                "p50_ms": round(statistics.median(latencies[name]), 1),
                "throughput_per_s": rates[name],
                "cpu_ms_per_picture": {k: round(s * 1000 / pictures_sent, 1) for k, s in sorted(cpu[name].items())},
            }
            for name in engines
        }
        result["service"]["mean_batch"] = mean_batch(far.classifier.embedder)
    differences = [far_ms - near_ms for near_ms, far_ms in zip(latencies["in_process"], latencies["service"])]
    cpu_near = result["in_process"]["cpu_ms_per_picture"]["client"]  # Ray's idle processes aside: no Ray in-process
    cpu_far = sum(result["service"]["cpu_ms_per_picture"].values())
    result["p50_overhead_ms"] = round(statistics.median(differences), 1)
    result["throughput_ratio"] = round(sum(rates["service"]) / sum(rates["in_process"]), 3)
    result["cpu_per_picture_ratio"] = round(cpu_near / cpu_far, 3)  # what the throughput ratio is when CPU-bound
    return result


async def spread(url: str, args, pictures: list[bytes]) -> dict:
    """Throughput and answers per replica."""
    async with RemoteEngine(await asyncio.to_thread(RemoteClassifier.connect, url)) as engine:
        await engine.prepare_labels(LABELS, "en")
        rate, _ = await many_callers(engine, pictures, args.callers, args.rounds)
        embedder = engine.classifier.embedder
        return {
            "throughput_per_s": round(rate, 2),
            "answers_per_replica": sorted(embedder.replicas.values(), reverse=True),
            "mean_batch": mean_batch(embedder),
        }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ViT-B-32-quickgelu")
    parser.add_argument("--pretrained", default="random")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", help="the same on both sides (auto could choose apart)")
    parser.add_argument("--max-batch", type=int, help="default: by the device, as the engine and the service")
    parser.add_argument("--max-wait-ms", type=float, default=MAX_WAIT_MS)
    parser.add_argument("--sequential", type=int, default=30, help="pictures sent one after another, each side")
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4, help="pictures per caller")
    parser.add_argument("--turns", type=int, default=2, help="throughput turns each side")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    pictures = [make_drawing_jpeg(seed) for seed in range(16)]

    import ray
    from ray import serve

    from classifier.serve import ServiceOptions, default_torch_threads, start_service

    results: dict = {"model": args.model, "pretrained": args.pretrained, "precision": args.precision}
    ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    try:
        for replicas in (1, 2):
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
            url = f"http://127.0.0.1:{PORT}"
            measured = asyncio.run(side_by_side(url, args, pictures) if replicas == 1 else spread(url, args, pictures))
            results[f"{replicas}_replica"] = measured
            print(f"{replicas} replica(s)", measured, file=sys.stderr)
    finally:
        serve.shutdown()
        ray.shutdown()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
