"""Label embeddings computed once, kept in memory and persisted in SQLite.

Keyed by model identity (name + tag, or a checkpoint's content hash), template
set and label, so every chat shares one computation and a restart recomputes
nothing. Only labels missing from both layers go to the text encoder.

The table is created by this package's own migration set, ``MIGRATIONS``
(``toonzoo-classifier``), applied when a cache is opened over a database.
"""

import datetime
import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import numpy as np
import torch
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .prompts import build_prompts, templates_key
from .zero_shot import ensemble_label_embeddings

logger = logging.getLogger(__name__)

TABLE = "text_embeddings"
ENCODE_CHUNK = 32  # prompts per text forward pass: 800 prompts in 4.0 s, 36 MB peak (256: 4.6 s, 210 MB)


MIGRATIONS = Migrations("toonzoo-classifier")


@MIGRATIONS(name="0001_text_embeddings")
def _create_text_embeddings(db: Database) -> None:
    """Label embeddings; databases written before this migration set existed already hold the table."""
    db.table(TABLE).create(
        {"model": str, "templates": str, "label": str, "dim": int, "vector": bytes, "created_at": str},
        pk=("model", "templates", "label"),
        if_not_exists=True,
    )


class TextEmbeddingCache:
    """``get(labels)`` -> ``[len(labels), dim]`` unit vectors, encoding only what is new.

    ``encode_prompts(prompts)`` must return unit-norm ``[len(prompts), dim]`` embeddings.
    One cache serves one template set (one language's prompts): its rows are keyed
    by ``templates_key``, so label sets in two languages never share a vector.
    """

    def __init__(
        self,
        encode_prompts: Callable[[list[str]], torch.Tensor],
        model_identity: str,
        templates: Sequence[str],
        db: Database | None = None,
        lock: AbstractContextManager | None = None,
    ):
        self._encode_prompts = encode_prompts
        self.model_identity = model_identity
        self.templates = tuple(templates)
        self.templates_key = templates_key(self.templates)
        self._db = db
        self._memory: dict[str, torch.Tensor] = {}
        self._lock = lock or threading.RLock()  # caches sharing a database connection share a lock
        self.encoder_calls = 0
        self.encoded_labels = 0
        if db is not None:
            MIGRATIONS.apply(db)

    def missing(self, labels: Sequence[str]) -> list[str]:
        """Labels not yet in memory or SQLite (loads the ones found in SQLite)."""
        with self._lock:
            self._load_from_db([label for label in labels if label not in self._memory])
            return list(dict.fromkeys(label for label in labels if label not in self._memory))

    def get(self, labels: Sequence[str]) -> torch.Tensor:
        """Unit-norm label embeddings in ``labels`` order (float32, CPU)."""
        with self._lock:
            todo = self.missing(labels)
            if todo:
                self._encode(todo)
            return torch.stack([self._memory[label] for label in labels])

    def _load_from_db(self, labels: list[str]) -> None:
        if self._db is None or not labels:
            return
        for start in range(0, len(labels), 500):
            chunk = labels[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._db.execute(
                f"select label, dim, vector from {TABLE} where model = ? and templates = ? and label in ({marks})",
                [self.model_identity, self.templates_key, *chunk],
            ).fetchall()
            for label, dim, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (dim,):
                    self._memory[label] = torch.from_numpy(vector.copy())

    def _encode(self, labels: list[str]) -> None:
        prompts = [prompt for label in labels for prompt in build_prompts(label, self.templates)]
        parts = []
        for start in range(0, len(prompts), ENCODE_CHUNK):
            self.encoder_calls += 1
            parts.append(self._encode_prompts(prompts[start : start + ENCODE_CHUNK]).float().cpu())
        embeddings = torch.cat(parts).reshape(len(labels), len(self.templates), -1)
        vectors = ensemble_label_embeddings(embeddings)
        self.encoded_labels += len(labels)
        for label, vector in zip(labels, vectors):
            self._memory[label] = vector.contiguous()
        if self._db is not None:
            now = datetime.datetime.now(datetime.UTC).isoformat()
            self._db.table(TABLE).upsert_all(
                (
                    {
                        "model": self.model_identity,
                        "templates": self.templates_key,
                        "label": label,
                        "dim": int(vector.shape[0]),
                        "vector": vector.numpy().astype(np.float32).tobytes(),
                        "created_at": now,
                    }
                    for label, vector in zip(labels, vectors)
                ),
                pk=("model", "templates", "label"),
            )
        logger.debug("encoded %d labels (%d prompts) for %s", len(labels), len(prompts), self.model_identity)
