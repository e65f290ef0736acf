"""The async serving engine: one model, a bounded queue, one inference thread.

Every chat's picture goes through :meth:`Engine.classify`. Requests that arrive
together share one image forward pass (dynamic batching, as Triton's dynamic
batcher and clip-as-service's minibatching do); each is then ranked against its
own chat's labels, in that chat's language (a batch may mix languages).
Pictures are decoded by a :class:`~classifier.decode_pool.DecodePool`
(worker processes, or one thread), or on CUDA as batches of JPEGs on the GPU
(:func:`~classifier.pixels.decode_jpegs`, with the CPU path as fallback); the
forward pass runs in the worker thread, label encoding in a label thread, and
results come back to each caller's future through ``loop.call_soon_threadsafe``.
On the event loop the engine does bookkeeping and one small read:
:meth:`labels_ready` may look labels up in the label cache's SQLite table (one
indexed query, well under a millisecond, like the bot store's queries).

Usage (python-telegram-bot: ``start`` in ``post_init``, ``close`` in ``post_shutdown``)::

    engine = Engine(classifier, max_batch=16, max_wait_ms=5, decode_workers=2)
    await engine.start()
    try:
        guesses = await engine.classify(photo_bytes, ["cat", "dog", "fox"])
        guesses = await engine.classify(photo_bytes, ["gato", "perro", "zorro"], language="es")
    except ClassifierError as exc:      # ImageError, EngineBusy, EngineClosed
        reply(exc.user_message)
    await engine.close()

Batched results equal one-at-a-time ``classifier.classify_bytes`` results up to
float rounding of the batched matrix products.
"""

import asyncio
import contextlib
import dataclasses
import functools
import logging
import queue
import threading
import time
from collections.abc import Sequence

import torch

from .decode_pool import DecodePool, PixelPlan
from .defaults import DECODE_WORKERS, MAX_QUEUE, MAX_WAIT_MS, default_max_batch
from .engine_base import EngineBase
from .errors import ClassifierError, EngineBusy, EngineClosed, InferenceFailed
from .few_shot import Examples, embedding_bytes, rank_with_examples
from .jpeg import JpegHeader, gpu_fallback_reason, read_header
from .label_sets import LabelSetKey, LabelSets
from .pipeline import ZeroShotClassifier
from .pixels import decode_jpegs, gpu_decoding_available, pixel_plan, plan_fits_gpu, to_model_input
from .types import Classified

logger = logging.getLogger(__name__)

_STOP = object()


@dataclasses.dataclass(frozen=True)
class EngineStats:
    """Counters since ``start()``; a snapshot, safe to read from any thread."""

    requests: int = 0  # answered with guesses
    batches: int = 0
    batched_images: int = 0
    busy_rejections: int = 0
    errors: int = 0  # unreadable pictures and failed forward passes
    cancelled: int = 0  # callers that stopped waiting before their answer
    closed_rejections: int = 0  # requests failed with EngineClosed
    device_decoded: int = 0  # JPEGs decoded on the model's device (gpu_decode)
    device_decode_fallbacks: int = 0  # JPEGs sent there that the CPU path decoded after all
    queue_wait_ms_total: float = 0.0
    max_queue_wait_ms: float = 0.0

    @property
    def mean_batch_size(self) -> float:
        return self.batched_images / self.batches if self.batches else 0.0

    @property
    def mean_queue_wait_ms(self) -> float:
        return self.queue_wait_ms_total / self.batched_images if self.batched_images else 0.0

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("queue_wait_ms_total")
        data["mean_batch_size"] = round(self.mean_batch_size, 3)
        data["mean_queue_wait_ms"] = round(self.mean_queue_wait_ms, 3)
        data["max_queue_wait_ms"] = round(self.max_queue_wait_ms, 3)
        return data


class _Request:
    """One caller's picture on its way through decode pool, queue and worker."""

    __slots__ = (
        "abandoned",
        "embed",
        "examples",
        "future",
        "header",
        "image",
        "key",
        "labels",
        "pixels",
        "queued_at",
        "released",
        "top_k",
        "weights",
    )

    def __init__(
        self,
        image: bytes,
        key: LabelSetKey,
        top_k: int,
        future: asyncio.Future,
        examples: Examples | None = None,
        embed: bool = False,
    ):
        self.image: bytes | None = image
        self.key = key
        self.labels = key[1]
        self.examples = examples  # the chat's taught pictures, blended into its ranking
        self.embed = embed  # the caller wants the picture's embedding back (Classified)
        self.weights: torch.Tensor | None = None
        self.top_k = top_k
        self.future = future
        self.pixels = None  # what the decoder made of the image (see classifier.pixels.to_model_input)
        self.header: JpegHeader | None = None  # the JPEG header, for the GPU decoder
        self.queued_at = 0.0
        self.released = False  # no longer counted against max_queue
        self.abandoned = False  # the caller stopped waiting: skip the work


class Engine(EngineBase):
    """Serve many concurrent callers with one model, batching their pictures.

    ``max_batch`` images at most per forward pass (default: by the model's device,
    ``classifier.defaults.default_max_batch``); the worker waits at most
    ``max_wait_ms`` after the first request of a batch for more to arrive.
    ``max_queue`` bounds the requests admitted but not yet in a forward pass
    (being decoded or queued): past it, ``classify`` fails at once with
    :class:`EngineBusy`, so memory stays bounded. ``decode_workers`` processes
    decode pictures while the model runs (``0``: one thread of this process,
    no extra processes). ``gpu_decode`` decodes baseline JPEGs in batches on
    the model's device (default: on CUDA, when nvJPEG works; ``True`` on a CPU
    runs the same tensor path with libjpeg-turbo, which is how it is tested
    without a GPU); other pictures, and any it fails on, take the CPU path.
    Requests with other labels, languages or taught examples share the forward pass.
    """

    classifier: ZeroShotClassifier

    def __init__(
        self,
        classifier: ZeroShotClassifier,
        *,
        max_batch: int | None = None,
        max_wait_ms: float = MAX_WAIT_MS,
        max_queue: int = MAX_QUEUE,
        decode_workers: int = DECODE_WORKERS,
        gpu_decode: bool | None = None,
    ):
        if max_batch is None:
            max_batch = default_max_batch(classifier.loaded.device.type)
        if max_batch < 1 or max_queue < 1 or decode_workers < 0 or max_wait_ms < 0:
            raise ValueError("max_batch and max_queue must be >= 1, decode_workers and max_wait_ms >= 0")
        self.classifier = classifier
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_queue = max_queue
        self.decode_workers = decode_workers
        self.gpu_decode = gpu_decode
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._plan: PixelPlan | None = None
        self._decoder: DecodePool | None = None
        self._gpu_queue: queue.SimpleQueue = queue.SimpleQueue()
        self._gpu_thread: threading.Thread | None = None
        self._closing = threading.Event()  # tells the worker to run no new batch
        self._labels = LabelSets(classifier, self._closing.is_set)
        self._lock = threading.Lock()  # guards _waiting, _stats, request.released
        self._waiting = 0
        self._live: set[_Request] = set()  # admitted, answer not yet sent (event-loop thread only)
        self._stats = EngineStats()
        self._state = "new"  # new -> running -> closing -> closed

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Start the decode pool and the inference thread on the running loop."""
        if self._state != "new":
            raise RuntimeError(f"engine already {self._state}")
        self._loop = asyncio.get_running_loop()
        self._plan = pixel_plan(self.classifier)
        workers = self.decode_workers
        if self._plan is None and workers:
            logger.warning("this model's preprocessing needs torch: decoding in one thread, not %d processes", workers)
            workers = 0
        convert = self._plan.pixels if self._plan is not None else self._decode_and_preprocess
        self._decoder = DecodePool(convert, workers)
        try:
            await self._loop.run_in_executor(None, self._decoder.start)
        except BaseException:
            await self._loop.run_in_executor(None, self._decoder.close)  # no half-started workers left behind
            raise
        device = self.classifier.loaded.device
        wanted = device.type == "cuda" if self.gpu_decode is None else self.gpu_decode
        if wanted:
            usable = plan_fits_gpu(self._plan) and await self._loop.run_in_executor(
                None, gpu_decoding_available, device
            )
            if usable:
                self._gpu_thread = threading.Thread(
                    target=self._run_gpu_decoder, name="toonzoo-gpu-decode", daemon=True
                )
            else:
                logger.warning("JPEGs cannot be decoded on %s for this model: decoding them on the CPU", device)
        self._thread = threading.Thread(target=self._run_worker, name="toonzoo-inference", daemon=True)
        self._state = "running"
        self._thread.start()
        if self._gpu_thread is not None:
            self._gpu_thread.start()
        logger.info(
            "engine started: %s on %s (%s), max_batch=%d, max_wait=%.1f ms, max_queue=%d, decode: %s%s",
            self.classifier.identity,
            device,
            self.classifier.loaded.precision,
            self.max_batch,
            self.max_wait_s * 1000,
            self.max_queue,
            f"{workers} processes" if workers else "one thread",
            f", JPEGs on {device}" if self._gpu_thread else "",
        )

    async def close(self) -> None:
        """Stop accepting work, finish the batch in flight, fail the rest with EngineClosed."""
        if self._state in ("closing", "closed"):
            return
        if self._state == "new":
            self._state = "closed"
            self._closing.set()
            self._labels.shutdown(wait=False)
            return
        assert self._decoder is not None and self._thread is not None  # a running engine has both
        self._state = "closing"
        self._closing.set()
        loop = asyncio.get_running_loop()
        if self._gpu_thread is not None:  # first: it may still hand pictures to the decode pool
            self._gpu_queue.put(_STOP)
            await loop.run_in_executor(None, self._gpu_thread.join)
        # Pictures being decoded finish (milliseconds); ones not started never will; the workers stop.
        await loop.run_in_executor(None, self._decoder.close)
        # A label encoding stops at its next group of labels (a fraction of a second).
        await loop.run_in_executor(None, self._labels.shutdown)
        self._queue.put(_STOP)
        await loop.run_in_executor(None, self._thread.join)
        await asyncio.sleep(0)  # answers the worker sent just before stopping are delivered first
        for request in list(self._live):
            self._release(request)
            self._settle(request, None, EngineClosed("engine closed before this request ran"))
        self._state = "closed"
        logger.info("engine closed: %s", self.stats.as_dict())

    @property
    def pending(self) -> int:
        """Requests admitted but not yet in a forward pass (being decoded or queued)."""
        with self._lock:
            return self._waiting

    @property
    def decode_worker_pids(self) -> list[int]:
        """Process ids of the decode workers (none when decoding in a thread)."""
        return self._decoder.worker_pids() if self._decoder is not None else []

    @property
    def queued(self) -> int:
        """Requests decoded and waiting for the worker (approximate while it runs)."""
        return self._queue.qsize()

    @property
    def stats(self) -> EngineStats:
        with self._lock:
            return self._stats

    # -- requests ----------------------------------------------------------

    async def _classify(self, image: bytes, labels: Sequence[str], top_k: int, language: str, examples, embed: bool):
        key = self._labels.key(labels, language)
        if not key[1]:
            raise ValueError("classify needs at least one label")
        self._check_running()
        assert self._loop is not None  # a running engine has one
        with self._lock:
            if self._waiting >= self.max_queue:
                self._stats = dataclasses.replace(self._stats, busy_rejections=self._stats.busy_rejections + 1)
                raise EngineBusy(f"{self._waiting} requests waiting (max_queue={self.max_queue})")
            self._waiting += 1
        request = _Request(image, key, top_k, self._loop.create_future(), examples, embed)
        self._live.add(request)
        request.future.add_done_callback(lambda _: self._live.discard(request))
        submitted = False
        try:
            request.weights = await self._labels.weights(key, language)
            self._check_running()
            self._submit(request)
            submitted = True
            return await request.future
        except asyncio.CancelledError:
            self._count(cancelled=1)
            raise
        finally:
            if request.future.cancelled() or not request.future.done():
                request.abandoned = True  # the decode pool and the worker skip it
                request.future.cancel()
            if not submitted:
                self._release(request)

    def _check_running(self) -> None:
        if self._state != "running":
            self._count(closed_rejections=1)
            raise EngineClosed("engine is not running" if self._state == "new" else "engine is closed")

    # -- threads -----------------------------------------------------------

    def _submit(self, request: _Request) -> None:
        """Send a picture to the GPU decoder when it can take it, else to the decode pool."""
        image = request.image
        assert image is not None and self._decoder is not None  # not decoded yet; a running engine
        if self._gpu_thread is not None:
            request.header = read_header(image)
            if gpu_fallback_reason(image, request.header) is None:
                self._gpu_queue.put(request)
                return
        self._decoder.submit(image, lambda pixels, error: self._decoded(request, pixels, error))

    def _decode_and_preprocess(self, data: bytes) -> torch.Tensor:
        """Decode pool, for models whose preprocessing has no pixel plan: the classifier's own steps."""
        return self.classifier.preprocess(self.classifier.decode(data))

    def _decoded(self, request: _Request, pixels, error: BaseException | None) -> None:
        """From a decode pool thread: hand the pixels to the worker, or the error to the caller."""
        if request.abandoned:
            self._release(request)
            return
        if error is not None:
            self._release(request)
            self._count(errors=1)
            if not isinstance(error, ClassifierError):
                logger.warning("decoding failed", exc_info=error)
                error = InferenceFailed(f"decoding failed: {error!r}")
            self._deliver(request, None, error)
            return
        request.pixels = pixels
        request.image = None  # the pixels are all the worker needs
        request.queued_at = time.monotonic()
        self._queue.put(request)

    def _run_gpu_decoder(self) -> None:
        """GPU decode thread: take every JPEG waiting (up to max_batch), decode them in one call, repeat."""
        while True:
            batch = [self._gpu_queue.get()]
            while len(batch) < self.max_batch and batch[-1] is not _STOP:
                try:
                    batch.append(self._gpu_queue.get_nowait())
                except queue.Empty:
                    break
            stopping = batch[-1] is _STOP
            live = [request for request in batch if request is not _STOP and not request.abandoned]
            for request in batch:
                if request is not _STOP and request.abandoned:
                    self._release(request)
            if live and not self._closing.is_set():  # when closing, close() answers them
                self._decode_on_gpu(live)
            if stopping:
                return

    def _decode_on_gpu(self, requests: list[_Request]) -> None:
        device = self.classifier.loaded.device
        images, headers = [], []
        for request in requests:  # _submit queued JPEGs with their headers, not decoded yet
            assert request.image is not None and request.header is not None
            images.append(request.image)
            headers.append(request.header)
        assert self._plan is not None and self._decoder is not None  # the GPU decoder runs only with both
        decoder = self._decoder
        try:
            results = decode_jpegs(images, headers, self._plan, device)
        except Exception:
            logger.warning("GPU decoding of %d JPEGs failed; decoding them on the CPU", len(requests), exc_info=True)
            results = [None] * len(requests)
        failed = sum(pixels is None for pixels in results)
        self._count(device_decoded=len(results) - failed, device_decode_fallbacks=failed)
        for request, image, pixels in zip(requests, images, results):
            if pixels is None:
                with contextlib.suppress(RuntimeError):  # the pool is closed: close() answers the caller
                    decoder.submit(image, functools.partial(self._decoded, request))
            else:
                self._decoded(request, pixels, None)

    def _run_worker(self) -> None:
        """Inference thread: collect a batch, run it, repeat until told to stop."""
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            self._release(first)
            batch = [first]
            deadline = first.queued_at + self.max_wait_s  # a request that already waited doesn't wait again
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self.pending == 0:  # nothing on its way: don't wait for it
                        break
                    try:
                        item = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                if item is _STOP:
                    stopping = True
                    break
                self._release(item)
                batch.append(item)
            if self._closing.is_set():
                self._refuse(batch)
            else:
                self._run_batch(batch)
        leftovers = []
        while True:
            try:
                leftovers.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._refuse([item for item in leftovers if item is not _STOP])

    def _refuse(self, requests: list[_Request]) -> None:
        """Fail requests that were queued when ``close()`` began."""
        for request in requests:
            self._release(request)
            request.pixels = None
            self._deliver(request, None, EngineClosed("engine closed before this request ran"))

    def _run_batch(self, batch: list[_Request]) -> None:
        started = time.monotonic()
        live = [request for request in batch if not request.abandoned]
        if not live:
            return
        parts = [request.pixels for request in live]
        for request in batch:
            request.pixels = None
        waits = [(started - request.queued_at) * 1000.0 for request in live]
        try:
            pixels = to_model_input(parts, self._plan, self.classifier.loaded.device)
            del parts
            features = self.classifier.embed_images(pixels)
            del pixels
            results = self._rank(features, live)
        except Exception as exc:
            logger.error("forward pass for a batch of %d failed", len(live), exc_info=True)
            failure = InferenceFailed(f"forward pass failed: {exc!r}")
            self._count(errors=len(live))
            for request in live:
                self._deliver(request, None, failure)
            return
        with self._lock:
            stats = self._stats
            self._stats = dataclasses.replace(
                stats,
                requests=stats.requests + len(live),
                batches=stats.batches + 1,
                batched_images=stats.batched_images + len(live),
                queue_wait_ms_total=stats.queue_wait_ms_total + sum(waits),
                max_queue_wait_ms=max(stats.max_queue_wait_ms, *waits),
            )
        for request, guesses in zip(live, results):
            self._deliver(request, guesses, None)

    def _rank(self, features: torch.Tensor, batch: list[_Request]) -> list:
        """Rank each row against its own request's labels (in its language) and examples; requests sharing
        them go together.

        A request that asked for its embedding gets a ``Classified``, the others their guesses.
        """
        groups: dict[tuple, list[int]] = {}
        for index, request in enumerate(batch):
            groups.setdefault((request.key, request.top_k, id(request.examples)), []).append(index)
        results: list = [None] * len(batch)
        for ((_, labels), top_k, _), indices in groups.items():
            first = batch[indices[0]]
            assert first.weights is not None  # found before the request was submitted
            rows = features[indices] if len(indices) < len(batch) else features
            scale = self.classifier.loaded.logit_scale
            ranked = rank_with_examples(rows, first.weights, labels, scale, first.examples, top_k)
            for index, guesses in zip(indices, ranked):
                embed = batch[index].embed
                results[index] = Classified(guesses, embedding_bytes(features[index])) if embed else guesses
        return results

    # -- bookkeeping -------------------------------------------------------

    def _release(self, request: _Request) -> None:
        with self._lock:
            if not request.released:
                request.released = True
                self._waiting -= 1

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats = dataclasses.replace(
                self._stats, **{name: getattr(self._stats, name) + value for name, value in increments.items()}
            )

    def _deliver(self, request: _Request, result, error: BaseException | None) -> None:
        """From a thread: settle the caller's future on its event loop."""
        assert self._loop is not None  # requests exist only once the engine started
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._settle, request, result, error)

    def _settle(self, request: _Request, result, error: BaseException | None) -> None:
        if request.future.done():
            return
        if error is not None:
            if isinstance(error, EngineClosed):
                self._count(closed_rejections=1)
            request.future.set_exception(error)
        else:
            request.future.set_result(result)
