"""``toonzoo serve``: the engine's heavy half as a Ray Serve application.

One deployment, :class:`EmbeddingService`, is both the HTTP ingress and the
model: Ray Serve's proxy spreads requests over its replicas (each loads the
model once; a GPU each with ``gpus_per_replica``), and a replica batches the
pictures that arrive together with ``@serve.batch`` (``max_batch`` pictures,
``max_wait_ms``: the in-process engine's own settings). Keeping the ingress in
the same deployment saves one hop between processes per picture. The routes and
their bodies are in :mod:`classifier.wire`; the bot side is :mod:`classifier.remote`.

Needs the ``serve`` extra (``pip install 'toonzoo[serve]'``, which brings
``ray[serve]``); nothing else in toonzoo imports this module.
"""

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import ray
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .defaults import MAX_BATCH, MAX_QUEUE, MAX_WAIT_MS, default_max_batch
from .errors import ImageError
from .wire import (
    BATCH_HEADER,
    IMAGE_PATH,
    INFO_PATH,
    MAX_IMAGE_BYTES,
    REPLICA_HEADER,
    TEXTS_PATH,
    ServiceInfo,
    authorized,
    check_listen,
    error_json,
    parse_prompts,
    vectors_to_bytes,
)

logger = logging.getLogger(__name__)

APP_NAME = "toonzoo"
DEFAULT_PORT = 8000
REQUEST_TIMEOUT_S = 60.0  # the proxy's end-to-end limit: no request waits on a dead replica for ever
ONGOING_PER_BATCH = 4  # requests a replica takes at once, in batches: decoding overlaps the forward pass
# Ray starts its workers at nice 15, below every ordinary process: on a machine the replica shares, any
# other work (the bot, Ray's own processes) preempted its forward passes. The model is the service's work:
# it runs at the priority the in-process engine has (Ray's own job supervisor sets this variable the same way).
REPLICA_NICENESS = 0


@dataclass(frozen=True)
class ServiceOptions:
    """What ``toonzoo serve`` was asked for (model settings as for ``toonzoo run``)."""

    model: str
    pretrained: str | None = None
    device: str = "auto"
    precision: str = "auto"
    replicas: int = 1
    gpus_per_replica: float = 0.0
    cpus_per_replica: float = 1.0
    max_batch: int | None = None  # None: by the replica's device (defaults.default_max_batch)
    max_wait_ms: float = MAX_WAIT_MS
    max_queue: int = MAX_QUEUE  # per replica, waiting in the proxy; past it the proxy answers 503 (busy)
    secret: str | None = None
    torch_threads: int | None = None  # None: the CPUs of the machine shared among the replicas


class EmbeddingReplica:
    """One model: ``/info``, ``/embed_image`` (batched), ``/embed_texts``."""

    def __init__(self, options: ServiceOptions):
        import torch

        from .pipeline import load_classifier
        from .pixels import pixel_plan

        logger.info("torch uses %d threads", torch.get_num_threads())
        self.classifier = load_classifier(
            options.model, options.pretrained, device=options.device, precision=options.precision
        )
        self.plan = pixel_plan(self.classifier)
        self.secret = options.secret
        loaded = self.classifier.loaded
        dim = int(self.classifier.encode_prompts(["a drawing"]).shape[-1])
        self.info = ServiceInfo(loaded.identity, loaded.languages, loaded.logit_scale, dim, loaded.cache_identity)
        self.replica = str(os.getpid())
        # One decoding thread, as in the in-process engine: more would only take cores from the forward pass.
        self._decoding = ThreadPoolExecutor(1, thread_name_prefix="toonzoo-decode")
        # One model thread for every forward pass, as the engine's worker: OpenMP keeps a pool of threads per
        # calling thread, so passes spread over asyncio's default threads would keep several pools spinning.
        self._model = ThreadPoolExecutor(1, thread_name_prefix="toonzoo-model")
        self._admitted = 0  # pictures let into serve.batch's queue and not answered yet
        self._arriving = 0  # pictures being decoded: they will want the model in a few milliseconds
        self._held = 0  # pictures waiting at the gate
        self._gate = asyncio.Event()  # open: the model is idle, or the batch being formed may still grow
        self._gate.set()
        batching: Any = self.embed_batch  # serve.batch's handler: its settings come from the engine's
        batching.set_max_batch_size(options.max_batch or default_max_batch(loaded.device.type))
        batching.set_batch_wait_timeout_s(options.max_wait_ms / 1000.0)
        logger.info("replica %s serving %s on %s", self.replica, loaded.identity, loaded.device)

    async def __call__(self, request: Request) -> Response:
        if not authorized(request.headers.get("authorization"), self.secret):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        route = (request.method, request.url.path.rstrip("/") or "/")
        headers = {REPLICA_HEADER: self.replica}
        if route == ("GET", INFO_PATH):
            return JSONResponse(self.info.as_json(), headers=headers)
        if route == ("POST", IMAGE_PATH):
            body = await request.body()
            if len(body) > MAX_IMAGE_BYTES:
                return JSONResponse({"error": "ImageTooLarge"}, status_code=413, headers=headers)
            began = time.perf_counter()
            self._arriving += 1
            try:
                pixels = await asyncio.get_running_loop().run_in_executor(self._decoding, self._pixels, body)
            except ImageError as exc:
                return JSONResponse(error_json(exc), status_code=422, headers=headers)
            finally:
                self._arriving -= 1
            decoded = time.perf_counter()
            vector, batch, forward_s = await self._embed(pixels)
            headers[BATCH_HEADER] = str(batch)
            headers["Server-Timing"] = server_timing(
                decode=decoded - began, wait=time.perf_counter() - decoded - forward_s, forward=forward_s
            )
            return Response(vector, media_type="application/octet-stream", headers=headers)
        if route == ("POST", TEXTS_PATH):
            try:
                prompts = parse_prompts(await request.body())
            except ValueError as exc:
                return JSONResponse({"error": "BadRequest", "detail": str(exc)}, status_code=400, headers=headers)
            loop = asyncio.get_running_loop()
            vectors = await loop.run_in_executor(self._model, self.classifier.encode_prompts, prompts)
            return Response(vectors_to_bytes(vectors.float()), media_type="application/octet-stream", headers=headers)
        return JSONResponse({"error": "NotFound"}, status_code=404, headers=headers)

    def _pixels(self, data: bytes):
        """A decoding thread: untrusted bytes -> what ``to_model_input`` takes (ImageError if unreadable)."""
        if self.plan is not None:
            return self.plan.pixels(data)
        return self.classifier.preprocess(self.classifier.decode(data))

    async def _embed(self, pixels) -> tuple[bytes, int, float]:
        """One decoded picture through ``embed_batch``, let in only while the model is idle or a batch forms.

        ``@serve.batch`` closes a batch ``max_wait_ms`` after its first picture even while the previous
        batch still runs (it queues the closed batch behind ``max_concurrent_batches``), so a busy replica
        would run batch after batch of one or two pictures. Held here until the pictures let in are
        answered, the pictures that arrive meanwhile enter together and fill whole batches, as the
        in-process engine's queue does. A picture alone (the model idle, nothing admitted or being
        decoded) runs at once rather than waiting ``max_wait_ms`` for company, as in the engine.
        """
        self._held += 1
        try:
            await self._gate.wait()
        finally:
            self._held -= 1
        alone = not self._admitted and not self._arriving and not self._held
        self._admitted += 1
        try:
            if alone:
                self._gate.clear()  # pictures arriving meanwhile wait, then fill the next batch together
                return (await self._run_batch([pixels]))[0]
            return await self.embed_batch(pixels)
        finally:
            self._admitted -= 1
            if not self._admitted:
                self._gate.set()

    @serve.batch(max_batch_size=MAX_BATCH, batch_wait_timeout_s=MAX_WAIT_MS / 1000.0)
    async def embed_batch(self, parts: list) -> list[tuple[bytes, int, float]]:
        """Pictures that arrived together, in one forward pass (in the model thread: the replica keeps
        accepting); each picture's embedding, the batch's size and the pass's seconds."""
        self._gate.clear()
        return await self._run_batch(parts)

    async def _run_batch(self, parts: list) -> list[tuple[bytes, int, float]]:
        began = time.perf_counter()
        features = await asyncio.get_running_loop().run_in_executor(self._model, self._forward, parts)
        took = time.perf_counter() - began
        return [(vectors_to_bytes(row), len(parts), took) for row in features]

    def _forward(self, parts: list):
        from .pixels import to_model_input

        return self.classifier.embed_images(to_model_input(parts, self.plan, self.classifier.loaded.device))


def server_timing(**seconds: float) -> str:
    """An HTTP ``Server-Timing`` value (milliseconds): where a picture's time went in the replica."""
    return ", ".join(f"{name};dur={value * 1000:.1f}" for name, value in seconds.items())


# The deployment: one replica per copy of the model; Serve's health checks restart a dead one.
EmbeddingService = serve.deployment(name="EmbeddingService", health_check_period_s=5, graceful_shutdown_timeout_s=5)(
    EmbeddingReplica
)


def build_app(options: ServiceOptions):
    """The application for ``serve.run``: ``options.replicas`` replicas of the embedding deployment."""
    ongoing = max(1, (options.max_batch or MAX_BATCH) * ONGOING_PER_BATCH)
    env = {"RAY_worker_niceness": str(REPLICA_NICENESS)}
    if options.torch_threads:
        # Ray sets OMP_NUM_THREADS to the actor's CPUs (1), and torch.set_num_threads in __init__ would not
        # reach the threads the forward passes run in (OpenMP keeps the count per thread): set it for the process.
        env["OMP_NUM_THREADS"] = str(options.torch_threads)
    actor: dict = {
        "num_cpus": options.cpus_per_replica,
        "num_gpus": options.gpus_per_replica,
        "runtime_env": {"env_vars": env},
    }
    return EmbeddingService.options(
        num_replicas=options.replicas,
        max_ongoing_requests=ongoing,
        max_queued_requests=options.max_queue * options.replicas,
        ray_actor_options=actor,
        logging_config={"enable_access_log": False},  # a line per picture, written by the replica: CPU spent
    ).bind(options)


def default_torch_threads(replicas: int, gpus_per_replica: float) -> int | None:
    """On CPUs, the machine's cores shared among the replicas (Ray would give each one thread)."""
    if gpus_per_replica:
        return None
    return max(1, (os.cpu_count() or 1) // max(1, replicas))


def start_service(options: ServiceOptions, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Deploy on the Ray cluster this process is connected to (``ray.init`` first) and wait until healthy."""
    check_listen(host, options.secret)
    serve.start(
        http_options={"host": host, "port": port, "request_timeout_s": REQUEST_TIMEOUT_S},
        logging_config={"enable_access_log": False},  # the proxy's line per picture too
    )
    serve.run(build_app(options), name=APP_NAME, route_prefix="/")


def run_service(
    options: ServiceOptions,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    address: str | None = None,
    ready: Callable[[str], None] = print,
) -> None:
    """``toonzoo serve``: start Ray (or join the cluster at ``address``), deploy, serve until interrupted."""
    check_listen(host, options.secret)  # before Ray starts: a refusal costs nothing
    ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    try:
        start_service(options, host=host, port=port)
        ready(f"toonzoo serve: {options.replicas} replica(s) of {options.model} at http://{host}:{port}")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        serve.shutdown()
        ray.shutdown()
