"""The label sets an engine ranks against, ready in memory: one for the in-process and the remote engine.

A chat's labels in its language become one matrix of label embeddings. The
last ``LABEL_SETS_KEPT`` matrices stay in memory; the labels behind them live
in the ``LabelRanker``'s SQLite cache. Labels not cached yet are encoded in one
label thread a few at a time, so encodes never race for the cache and a
closing engine stops one at its next group of labels.
"""

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import torch

from .errors import EngineClosed
from .pipeline import LabelRanker
from .text_cache import ENCODE_CHUNK

logger = logging.getLogger(__name__)

LABEL_SETS_KEPT = 64  # label matrices kept ready (about 200 KB each for 100 labels)
LabelSetKey = tuple[str, tuple[str, ...]]  # (template set's key, labels): one label matrix


class LabelSets:
    """``ranker``'s label matrices by (template set, labels); ``closing()`` says when to stop encoding."""

    def __init__(self, ranker: LabelRanker, closing: Callable[[], bool]):
        self.ranker = ranker
        self._closing = closing
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="toonzoo-labels")
        self._lock = threading.Lock()  # guards _weights: the engine's worker thread reads it too
        self._weights: OrderedDict[LabelSetKey, torch.Tensor] = OrderedDict()
        self._encoding = 0  # encodings in flight (event-loop thread only)

    def key(self, labels: Sequence[str], language: str) -> LabelSetKey:
        return self.ranker.text_cache_for(language).templates_key, tuple(labels)

    def ready(self, key: LabelSetKey, language: str) -> bool:
        """True when every label's embedding is cached (in memory or SQLite): no text encoding needed.

        Runs on the caller's thread (the event loop): labels not in memory are
        looked up in SQLite with one small query (well under a millisecond).
        While labels are being encoded, which holds the cache's lock for
        seconds, it answers False instead of waiting.
        """
        with self._lock:
            if key in self._weights:
                return True
        if self._encoding:
            return False
        return not self.ranker.text_cache_for(language).missing(key[1])

    async def weights(self, key: LabelSetKey, language: str) -> torch.Tensor:
        """The label matrix for ``key``: from memory, else encoded in the label thread (seconds for many
        new labels). Raises EngineClosed once ``closing()`` says so."""
        with self._lock:
            weights = self._weights.get(key)
            if weights is not None:
                self._weights.move_to_end(key)
                return weights
        if self._closing():
            raise EngineClosed("engine is closed")
        self._encoding += 1
        try:
            weights = await asyncio.get_running_loop().run_in_executor(self._pool, self._encode, key[1], language)
        except RuntimeError:  # the label thread was shut down: the engine is closing
            raise EngineClosed("engine closed while encoding labels") from None
        finally:
            self._encoding -= 1
        with self._lock:
            self._weights[key] = weights
            while len(self._weights) > LABEL_SETS_KEPT:
                self._weights.popitem(last=False)
        return weights

    def _encode(self, labels: tuple[str, ...], language: str) -> torch.Tensor:
        """Label thread: encode the missing labels a few at a time, then return the whole matrix."""
        cache = self.ranker.text_cache_for(language)
        missing = cache.missing(labels)
        step = max(1, ENCODE_CHUNK // len(cache.templates))  # one text forward pass per step
        began = time.perf_counter()
        for start in range(0, len(missing), step):
            if self._closing():
                raise EngineClosed("engine closed while encoding labels")
            self.ranker.label_weights(missing[start : start + step], language)
        if missing:
            logger.info("encoded %d new labels in %.1f s", len(missing), time.perf_counter() - began)
        return self.ranker.label_weights(labels, language)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the label thread; an encoding in flight stops at its next group of labels."""
        self._pool.shutdown(wait=wait)  # encodes queued behind it stop at once: closing() says so
