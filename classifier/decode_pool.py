"""Decode pictures outside the inference thread: in worker processes, or in one thread.

Python threads that decode JPEGs hold the GIL for much of the work, so decoding
in threads does not scale with cores. ``DecodePool`` runs a picklable
``convert(bytes)`` (normally :meth:`PixelPlan.pixels`: decode, fit, pad, resize)
in ``workers`` processes started with ``spawn`` (never ``fork`` once torch's
threads exist). The workers import neither torch nor the model, start in a
fraction of a second, and send back a ``[side, side, 3]`` uint8 array: a
quarter of the bytes of a float tensor, normalised later for a whole batch at
once (:func:`classifier.pixels.to_model_input`). ``workers=0`` runs the same
conversion in one thread of this process (no extra processes).

A worker that dies (killed, out of memory) breaks its pool: a fresh pool
starts, the pictures the broken one held are tried once more there, and fail
with :class:`InferenceFailed` if that pool breaks too. Workers exit by
themselves within a second when this process dies without closing the pool,
so none is left behind.
"""

import contextlib
import dataclasses
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import (
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from .errors import InferenceFailed
from .images import decode_image

logger = logging.getLogger(__name__)

START_METHOD = "spawn"
PARENT_CHECK_S = 0.5  # how often a worker checks that the process that started it still lives

Done = Callable[[Any, BaseException | None], None]
"""Called with ``(result, None)`` or ``(None, error)`` from a pool thread; nothing at all when cancelled."""


@dataclasses.dataclass(frozen=True)
class PixelPlan:
    """Bytes -> the model's square uint8 picture, without torch: the PIL part of its preprocessing.

    ``decode_options`` go to :func:`decode_image` (which pads to a square); the
    square is then resized to ``side`` with ``resample``, as the model's
    ``Resize(side)`` + ``CenterCrop(side)`` do to a square. ``mean``/``std`` are
    its ``Normalize``.
    """

    side: int
    resample: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    decode_options: tuple[tuple[str, Any], ...] = ()

    def pixels(self, data: bytes) -> np.ndarray:
        """``[side, side, 3]`` uint8 array (raises ImageError subclasses)."""
        image = decode_image(data, **dict(self.decode_options))
        if image.size != (self.side, self.side):
            image = image.resize((self.side, self.side), self.resample)
        return np.array(image)


class DecodePool:
    """Run ``convert`` on pictures in ``workers`` processes (``0``: one thread here)."""

    def __init__(self, convert: Callable[[bytes], Any], workers: int):
        if workers < 0:
            raise ValueError("workers must be >= 0")
        self.convert = convert
        self.workers = workers
        self._lock = threading.Lock()
        self._executor: Executor | None = None
        self._closed = False
        self.restarts = 0  # pools replaced after a worker died

    @property
    def uses_processes(self) -> bool:
        return self.workers > 0

    def start(self) -> None:
        """Start every worker and wait until each has answered (blocking: seconds at most)."""
        with self._lock:
            executor = self._executor = self._new_executor()
        if self.uses_processes:
            # With no idle worker, each submit starts one more process: all of them start now, not at the first picture.
            for future in [executor.submit(os.getpid) for _ in range(self.workers)]:
                future.result(timeout=120)
        logger.info("decode pool: %s", f"{self.workers} {START_METHOD} processes" if self.workers else "one thread")

    def submit(self, data: bytes, done: Done) -> None:
        """Convert ``data``; ``done`` gets the result or the error (from a pool thread).

        Raises RuntimeError after :meth:`close`.
        """
        self._submit(data, done, retries=1)

    def close(self) -> None:
        """Finish the pictures being converted, drop the rest (their ``done`` is never called), stop the workers."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        """Process ids of the current pool's workers (empty for the thread)."""
        with self._lock:
            processes = getattr(self._executor, "_processes", None) or {}
            return sorted(processes)

    # -- internals ---------------------------------------------------------

    def _new_executor(self) -> Executor:
        if not self.uses_processes:
            return ThreadPoolExecutor(1, thread_name_prefix="toonzoo-decode")
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context(START_METHOD),
            initializer=_init_worker,
            initargs=(self.convert, os.getpid()),
        )

    def _target(self) -> Callable[[bytes], Any]:
        return _convert_in_worker if self.uses_processes else self.convert

    def _forget(self, executor: Executor) -> None:
        """A broken pool: the next picture starts a fresh one (its workers are already stopped)."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
                logger.warning("a decoding worker stopped unexpectedly; starting a fresh pool")
        executor.shutdown(wait=False)

    def _submit(self, data: bytes, done: Done, retries: int) -> None:
        for _ in range(3):
            with self._lock:
                if self._closed:
                    raise RuntimeError("decode pool is closed")
                if self._executor is None:
                    self._executor = self._new_executor()
                    self.restarts += 1
                executor = self._executor
            try:
                future = executor.submit(self._target(), data)
            except BrokenProcessPool:
                self._forget(executor)  # it broke before this picture went in: a fresh pool takes it
                continue
            future.add_done_callback(functools.partial(self._finished, executor, data=data, done=done, retries=retries))
            return
        done(None, InferenceFailed("decoding workers cannot start"))

    def _finished(self, executor: Executor, future: Future, *, data: bytes, done: Done, retries: int) -> None:
        try:
            result = future.result()
        except CancelledError:
            return  # close() dropped it: the engine answers its caller
        except BrokenProcessPool:
            # Whichever picture killed the worker, those it held get one more try in a fresh pool:
            # a picture that kills its worker twice fails, the others go through.
            self._forget(executor)
            if retries:
                with contextlib.suppress(RuntimeError):  # closed meanwhile: the engine answers its caller
                    self._submit(data, done, retries - 1)
                return
            done(None, InferenceFailed("a decoding worker stopped (killed or out of memory)"))
        except Exception as exc:  # noqa: BLE001 - the conversion's own error, for the caller to judge
            done(None, exc)
        else:
            done(result, None)


# -- in the worker processes ---------------------------------------------------

_convert: Callable[[bytes], Any] | None = None


def _init_worker(convert: Callable[[bytes], Any], parent: int) -> None:
    """Worker start: keep ``convert``, leave Ctrl-C to the parent, exit when the parent is gone."""
    global _convert
    _convert = convert
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="toonzoo-parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A dead parent can no longer stop its workers: each stops itself (the parent's pid is no longer its parent)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _convert_in_worker(data: bytes) -> Any:
    assert _convert is not None, "the pool's initializer sets it"
    return _convert(data)
