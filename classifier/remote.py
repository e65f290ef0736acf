"""The engine with its heavy half in ``toonzoo serve``: same interface, the model elsewhere.

The expensive work, turning picture bytes into an image embedding and label
prompts into text embeddings, runs in the service (:mod:`classifier.serve`, Ray
Serve, one model, many replicas). Everything else stays here: the label cache in
SQLite (keyed by the service's model identity), the taught examples, the ranking
(microseconds). :class:`RemoteEngine` satisfies the same interface as
:class:`classifier.engine.Engine`; :func:`open_classifier` and :func:`create_engine`
choose between them by one setting, ``TOONZOO_ENGINE_URL``.

Failures: connecting to a service that is down, refuses the secret or serves
another model raises :class:`EngineUnavailable` with one line for the operator.
Once connected, a request that times out, loses its connection or meets a
failing replica is tried once more (embedding is idempotent), then fails with
:class:`EngineBusy` ("try again in a moment"): a caller never waits longer than
``timeout_s`` per try.

Usage::

    classifier = open_classifier("ViT-B-32-quickgelu", "openai", engine_url="http://127.0.0.1:8000")
    engine = create_engine(classifier)  # a RemoteEngine here, an Engine without engine_url
    await engine.start()
    guesses = await engine.classify(photo_bytes, ["cat", "dog"], 3, "en")
    await engine.close()
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import json
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import aiohttp
import torch

from .defaults import MAX_QUEUE, MAX_WAIT_MS
from .engine_base import EngineBase
from .errors import ClassifierError, EngineBusy, EngineClosed, EngineUnavailable, ImageTooLarge, InferenceFailed
from .few_shot import embedding_bytes, rank_with_examples
from .label_sets import LabelSets
from .model import model_identity
from .pipeline import LabelRanker, ZeroShotClassifier, load_classifier
from .prompts import DEFAULT_LANGUAGE
from .types import Classified, Guess
from .wire import (
    BATCH_HEADER,
    IMAGE_PATH,
    INFO_PATH,
    REPLICA_HEADER,
    TEXTS_PATH,
    ServiceInfo,
    auth_headers,
    error_from_json,
    vectors_from_bytes,
)

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 30.0  # one try; a text request of 32 prompts takes under a second on a CPU
CONNECT_TIMEOUT_S = 5.0
RETRIES = 1  # one more try after a timeout, a lost connection or a 5xx (embedding is idempotent)
RETRY_PAUSE_S = 0.2
_T = TypeVar("_T")


class _Transient(Exception):
    """A try that may succeed when repeated: timeout, lost connection, 5xx, overloaded service."""


class RemoteEmbedder:
    """An HTTP client of the embedding service, used on one event loop."""

    def __init__(self, url: str, secret: str | None = None, *, timeout_s: float = REQUEST_TIMEOUT_S):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._headers = auth_headers(secret)
        self._session: aiohttp.ClientSession | None = None
        self.dim = 0
        self.replicas: collections.Counter[str] = collections.Counter()  # answers per replica (REPLICA_HEADER)
        self.batches: collections.Counter[int] = collections.Counter()  # pictures per batch size (BATCH_HEADER)

    async def open(self) -> ServiceInfo:
        """Connect and ask the service's model; raises EngineUnavailable with one line for the operator."""
        connector = aiohttp.TCPConnector(limit=0)  # the service's queue bounds the work, not the connection pool
        timeout = aiohttp.ClientTimeout(total=self.timeout_s, connect=CONNECT_TIMEOUT_S)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, headers=self._headers)
        try:
            async with self._session.get(self.url + INFO_PATH) as response:
                if response.status in (401, 403):
                    raise EngineUnavailable(
                        user_message=f"The engine service at {self.url} refused this client: set the same "
                        "TOONZOO_ENGINE_SECRET here as on the service."
                    )
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status} from {INFO_PATH}")
                info = ServiceInfo.from_json(await response.json(content_type=None))
        except EngineUnavailable:
            raise
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise EngineUnavailable(
                f"{self.url}: {reason}",
                user_message=f"Cannot reach the engine service at {self.url} ({reason}): start it with "
                "'toonzoo serve', or check TOONZOO_ENGINE_URL.",
            ) from None
        self.dim = info.dim
        return info

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def embed_image(self, data: bytes) -> torch.Tensor:
        """One picture's unit ``[dim]`` embedding; ImageError subclasses for unreadable pictures."""
        body = await self._post(IMAGE_PATH, data, "application/octet-stream")
        return torch.from_numpy(vectors_from_bytes(body, self.dim)[0].copy())

    async def embed_texts(self, prompts: Sequence[str]) -> torch.Tensor:
        """``[len(prompts), dim]`` unit text embeddings."""
        payload = json.dumps({"prompts": list(prompts)}).encode()
        body = await self._post(TEXTS_PATH, payload, "application/json")
        vectors = vectors_from_bytes(body, self.dim)
        if len(vectors) != len(prompts):
            raise InferenceFailed(f"the engine service answered {len(vectors)} vectors for {len(prompts)} prompts")
        return torch.from_numpy(vectors.copy())

    async def _post(self, path: str, payload: bytes, content_type: str) -> bytes:
        for attempt in range(RETRIES + 1):
            try:
                return await self._try(path, payload, content_type)
            except _Transient as exc:
                if attempt == RETRIES:
                    raise EngineBusy(f"the engine service at {self.url} did not answer: {exc}") from None
                logger.info("engine service: %s; trying again", exc)
                await asyncio.sleep(RETRY_PAUSE_S)
        raise AssertionError("unreachable")

    async def _try(self, path: str, payload: bytes, content_type: str) -> bytes:
        if self._session is None:
            raise EngineClosed("the engine service connection is closed")
        try:
            async with self._session.post(
                self.url + path, data=payload, headers={"Content-Type": content_type}
            ) as response:
                body = await response.read()
                status = response.status
                self.replicas[response.headers.get(REPLICA_HEADER, "?")] += 1
                if response.headers.get(BATCH_HEADER, "").isdigit():
                    self.batches[int(response.headers[BATCH_HEADER])] += 1
        except TimeoutError:
            raise _Transient(f"no answer within {self.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            if self._session is None or self._session.closed:
                raise EngineClosed("the engine service connection is closed") from None
            raise _Transient(" ".join(str(exc).split()) or type(exc).__name__) from None
        if status == 200:
            return body
        if status == 422:
            with contextlib.suppress(ValueError):
                raise error_from_json(json.loads(body))
        if status == 413:
            raise ImageTooLarge(f"the engine service refused {len(payload)} bytes")
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        if status in (401, 403):
            logger.error("the engine service at %s refused the secret (TOONZOO_ENGINE_SECRET)", self.url)
            raise EngineBusy(f"HTTP {status} from the engine service")
        raise InferenceFailed(f"HTTP {status} from the engine service: {body[:200]!r}")


class RemoteClassifier(LabelRanker):
    """Label cache and ranking here, embeddings from the service; usable from any thread.

    The HTTP client lives on an event loop of its own, in a daemon thread: the
    label cache calls ``encode_prompts`` from a worker thread, the command line
    from its main thread, and the bot's event loop awaits :meth:`embed_image`.
    """

    def __init__(self, embedder: RemoteEmbedder, info: ServiceInfo, loop: asyncio.AbstractEventLoop, templates, db):
        self.embedder = embedder
        self.info = info
        self._loop = loop
        self._closing = threading.Lock()
        self._closed = False
        super().__init__(
            info.identity,
            info.languages,
            info.logit_scale,
            self.encode_prompts,
            templates,
            db,
            cache_identity=info.cache_identity,
        )

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        secret: str | None = None,
        expected_identity: str | None = None,
        templates: Sequence[str] | None = None,
        db=None,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> "RemoteClassifier":
        """Connect to ``url``; refuse (EngineUnavailable) when it is down or serves another model than
        ``expected_identity``."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="toonzoo-remote", daemon=True)
        thread.start()
        embedder = RemoteEmbedder(url, secret, timeout_s=timeout_s)
        try:
            info = asyncio.run_coroutine_threadsafe(embedder.open(), loop).result()
            if expected_identity is not None and info.identity != expected_identity:
                raise EngineUnavailable(
                    f"service model {info.identity}, expected {expected_identity}",
                    user_message=f"The engine service at {embedder.url} serves {info.identity}, but this "
                    f"program is set up for {expected_identity}: start the service with the same "
                    "--model/--pretrained (TOONZOO_MODEL, TOONZOO_PRETRAINED), or point TOONZOO_ENGINE_URL "
                    "at one that serves it.",
                )
        except BaseException:
            asyncio.run_coroutine_threadsafe(embedder.close(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            raise
        logger.info("engine service at %s: %s (%d dimensions)", embedder.url, info.identity, info.dim)
        return cls(embedder, info, loop, templates, db)

    def close(self) -> None:
        """Close the connection and stop its thread (idempotent, from any thread but the client's).

        Only the first call closes: a second one asking the loop to close the connection again could
        find it still running, its stop already queued, and wait for a coroutine that never runs.
        """
        with self._closing:
            if self._closed:
                return
            self._closed = True
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self.embedder.close(), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def _open(self) -> bool:
        """Not closed, and the client's loop still runs requests."""
        return not self._closed and self._loop.is_running()

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """From any thread but the client's: run ``coroutine`` on the client's loop and wait for it."""
        if not self._open:
            coroutine.close()
            raise EngineClosed("the engine service connection is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def embed_image(self, data: bytes) -> torch.Tensor:
        """Awaitable from any event loop: the picture's unit embedding."""
        if not self._open:
            raise EngineClosed("the engine service connection is closed")
        future = asyncio.run_coroutine_threadsafe(self.embedder.embed_image(data), self._loop)
        return await asyncio.wrap_future(future)

    def encode_prompts(self, prompts: list[str]) -> torch.Tensor:
        """The label cache's encoder (blocking): prompts embedded by the service."""
        return self._run(self.embedder.embed_texts(prompts))

    def embed_pictures(self, pictures: Sequence[bytes]) -> list[torch.Tensor | ClassifierError]:
        """Like ``ZeroShotClassifier.embed_pictures``; the service batches the concurrent requests."""

        async def gather() -> list:
            return await asyncio.gather(*(self.embedder.embed_image(data) for data in pictures), return_exceptions=True)

        results = self._run(gather())
        for item in results:
            if isinstance(item, BaseException) and not isinstance(item, ClassifierError):
                raise item
        return results

    def classify_bytes(
        self, data: bytes, labels: Sequence[str], top_k: int = 3, language: str = DEFAULT_LANGUAGE
    ) -> list[Guess]:
        [result] = self.embed_pictures([data])
        if isinstance(result, ClassifierError):
            raise result
        return self.rank(result[None], labels, top_k, language=language)[0]


Classifier = ZeroShotClassifier | RemoteClassifier


def open_classifier(
    model: str,
    pretrained: str | None,
    *,
    device: str = "auto",
    precision: str = "auto",
    db_path=None,
    templates: Sequence[str] | None = None,
    engine_url: str | None = None,
    engine_secret: str | None = None,
) -> Classifier:
    """The model in this process (``load_classifier``), or, with ``engine_url``, the service there
    (checked to serve the model these settings name)."""
    if not engine_url:
        return load_classifier(
            model, pretrained, device=device, precision=precision, db_path=db_path, templates=templates
        )
    from .database import open_database

    db = open_database(db_path)  # first: a bad path fails before the network
    expected = model_identity(model, pretrained)
    return RemoteClassifier.connect(
        engine_url, secret=engine_secret, expected_identity=expected, templates=templates, db=db
    )


def create_engine(
    classifier: Classifier,
    *,
    max_batch: int | None = None,
    max_wait_ms: float = MAX_WAIT_MS,
    max_queue: int = MAX_QUEUE,
    decode_workers: int = 0,
):
    """The serving engine for ``classifier``: an ``Engine`` in this process, a ``RemoteEngine`` for a service."""
    if isinstance(classifier, RemoteClassifier):
        return RemoteEngine(classifier, max_queue=max_queue)
    from .engine import Engine

    return Engine(
        classifier, max_batch=max_batch, max_wait_ms=max_wait_ms, max_queue=max_queue, decode_workers=decode_workers
    )


class RemoteEngine(EngineBase):
    """The ``Engine`` interface over a :class:`RemoteClassifier`: the service batches, this ranks.

    At most ``max_queue`` pictures wait for the service at once; past that,
    ``classify`` fails at once with EngineBusy, as ``Engine`` does. ``close()``
    closes the connection.
    """

    classifier: RemoteClassifier

    def __init__(self, classifier: RemoteClassifier, *, max_queue: int = MAX_QUEUE):
        if max_queue < 1:
            raise ValueError("max_queue must be >= 1")
        self.classifier = classifier
        self.max_queue = max_queue
        self._state = "new"
        self._labels = LabelSets(classifier, lambda: self._state != "running")
        self._lock = threading.Lock()  # guards _waiting
        self._waiting = 0

    async def start(self) -> None:
        if self._state != "new":
            raise RuntimeError(f"engine already {self._state}")
        self._state = "running"
        logger.info(
            "engine started: %s at %s, max_queue=%d", self.identity, self.classifier.embedder.url, self.max_queue
        )

    async def close(self) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._labels.shutdown)
        await loop.run_in_executor(None, self.classifier.close)
        logger.info("engine closed: %s", self.identity)

    async def prepare_labels(self, labels: Sequence[str], language: str = DEFAULT_LANGUAGE) -> None:
        """Have the service embed the labels not cached yet (in the label thread)."""
        self._check_running()
        await super().prepare_labels(labels, language)

    async def _classify(self, image: bytes, labels: Sequence[str], top_k: int, language: str, examples, embed: bool):
        key = self._labels.key(labels, language)
        if not key[1]:
            raise ValueError("classify needs at least one label")
        self._check_running()
        with self._lock:
            if self._waiting >= self.max_queue:
                raise EngineBusy(
                    f"{self._waiting} requests waiting for the engine service (max_queue={self.max_queue})"
                )
            self._waiting += 1
        try:
            weights = await self._labels.weights(key, language)
            limit = self.classifier.embedder.timeout_s * (RETRIES + 1) + RETRY_PAUSE_S + 1.0
            try:
                async with asyncio.timeout(limit):  # the client's own timeouts come first; this is the backstop
                    vector = await self.classifier.embed_image(image)
            except TimeoutError:
                raise EngineBusy(f"no answer from the engine service within {limit:g} s") from None
            except concurrent.futures.CancelledError:
                raise EngineClosed("engine closed before this request ran") from None
        finally:
            with self._lock:
                self._waiting -= 1
        scale = self.classifier.logit_scale
        guesses = rank_with_examples(vector[None], weights, key[1], scale, examples, top_k)[0]
        return Classified(guesses, embedding_bytes(vector)) if embed else guesses

    def _check_running(self) -> None:
        if self._state != "running":
            raise EngineClosed("engine is not running" if self._state == "new" else "engine is closed")
