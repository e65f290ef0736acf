"""Few-shot without training: Tip-Adapter's cache model over a chat's taught pictures.

Pure tensor code, no I/O. The taught pictures' unit image embeddings are the
keys ``K`` ``[N, dim]``, their labels one-hot rows ``L`` ``[N, labels]``; a
picture's unit embedding ``f`` gets

    logits = logit_scale·f·Wᵀ + α·exp(−β(1 − f·Kᵀ))·L

(Tip-Adapter, Zhang et al. 2022: ``logit_scale`` is CLIP's learned scale, 100
for trained weights). A picture (nearly) the same as a taught one, cosine at
least ``SAME_PICTURE`` to it, gets that example's label first whatever the
blend says: re-sending a corrected picture must never give the old answer.

Defaults: ``α = 1``, ``β = 5.5``, Tip-Adapter's published setting for ImageNet.
With ``β = 5.5`` an unrelated drawing (cosine about 0.6 to an example) adds
``0.11·α``, a close variant (0.9) ``0.58·α``: a label with many examples gains
little from pictures unlike them, so a chat's uneven teaching (up to 16 per
label) cannot pull every guess towards its most-taught label. ``toonzoo evaluate
--shots K --tune`` finds better values for a given set of drawings.
"""

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .defaults import FEW_SHOT_ALPHA, FEW_SHOT_BETA
from .types import Guess
from .zero_shot import rank, top_guesses

DEFAULT_ALPHA = FEW_SHOT_ALPHA
DEFAULT_BETA = FEW_SHOT_BETA
SAME_PICTURE = 0.95  # cosine to a taught picture at which it counts as that picture
SAME_MARGIN = 5.0  # logits the taught label gets above the best other one for the same picture
_VALUES_KEPT = 8  # label lists an Examples keeps its value matrix for


def embedding_bytes(vector: torch.Tensor) -> bytes:
    """One unit image embedding as float32 bytes: what the bot keeps and stores."""
    return vector.detach().float().cpu().numpy().astype(np.float32).tobytes()


def embedding_from_bytes(data: bytes) -> torch.Tensor:
    """float32 bytes -> a ``[dim]`` tensor."""
    return torch.from_numpy(np.frombuffer(data, dtype=np.float32).copy())


def cache_logits(
    features: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, alpha: float, beta: float
) -> torch.Tensor:
    """``α·exp(−β(1 − f·Kᵀ))·L``: features ``[B, dim]``, keys ``[N, dim]``, values ``[N, L]`` -> ``[B, L]``."""
    affinity = features.float() @ keys.float().T
    return alpha * torch.exp(-beta * (1.0 - affinity)) @ values.float()


def blend_logits(
    features: torch.Tensor,
    label_weights: torch.Tensor,
    logit_scale: float,
    keys: torch.Tensor,
    values: torch.Tensor,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    same_picture: float = SAME_PICTURE,
) -> torch.Tensor:
    """Zero-shot logits plus the cache model; the same picture as a taught one gets its label first."""
    features = F.normalize(features.float(), dim=-1)
    logits = logit_scale * features @ label_weights.float().T
    if keys.shape[0] == 0:
        return logits
    logits = logits + cache_logits(features, keys, values, alpha, beta)
    best, nearest = (features @ keys.float().T).max(dim=1)
    same = (best >= same_picture).nonzero().flatten()
    if same.numel():
        taught = values[nearest[same]].argmax(dim=1)
        logits[same, taught] = logits[same].max(dim=1).values + SAME_MARGIN
    return logits


class Examples:
    """One chat's taught pictures for one model: keys ``[N, dim]`` and their labels (read-only).

    The engine ranks every request that carries the same ``Examples`` object
    together; ``for_labels`` builds the one-hot values for a label list once.
    """

    def __init__(
        self,
        keys: torch.Tensor,
        labels: Sequence[str],
        alpha: float = DEFAULT_ALPHA,
        beta: float = DEFAULT_BETA,
    ):
        if keys.ndim != 2 or keys.shape[0] != len(labels):
            raise ValueError(f"{len(labels)} labels for keys of shape {tuple(keys.shape)}")
        self.keys = F.normalize(keys.float(), dim=-1)
        self.labels = tuple(labels)
        self.alpha = alpha
        self.beta = beta
        self._values: OrderedDict[tuple[str, ...], tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    @classmethod
    def from_rows(
        cls, rows: Sequence[tuple[str, bytes]], dim: int | None = None, **options: float
    ) -> "Examples | None":
        """``(label, embedding bytes)`` rows -> Examples; rows of another size are skipped; None when none is left."""
        vectors = [(label, embedding_from_bytes(data)) for label, data in rows]
        dim = dim or (vectors[0][1].shape[0] if vectors else 0)
        vectors = [(label, vector) for label, vector in vectors if vector.shape == (dim,)]
        if not vectors:
            return None
        return cls(torch.stack([vector for _, vector in vectors]), [label for label, _ in vectors], **options)

    def __len__(self) -> int:
        return len(self.labels)

    def for_labels(self, labels: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys of the examples whose label is in ``labels``, and their one-hot values ``[n, len(labels)]``."""
        found = self._values.get(labels)
        if found is not None:
            self._values.move_to_end(labels)
            return found
        column = {label: index for index, label in enumerate(labels)}
        rows = [i for i, label in enumerate(self.labels) if label in column]
        values = torch.zeros(len(rows), len(labels))
        if rows:
            values[torch.arange(len(rows)), torch.tensor([column[self.labels[i]] for i in rows])] = 1.0
        found = (self.keys[rows], values)
        self._values[labels] = found
        while len(self._values) > _VALUES_KEPT:
            self._values.popitem(last=False)
        return found


def rank_with_examples(
    features: torch.Tensor,
    label_weights: torch.Tensor,
    labels: Sequence[str],
    logit_scale: float,
    examples: Examples | None,
    top_k: int = 3,
) -> list[list[Guess]]:
    """Top-k guesses for each row, with the chat's examples blended in (plain zero-shot without any)."""
    labels = tuple(labels)
    if examples is None:
        return rank(features, label_weights, labels, logit_scale, top_k)
    keys, values = examples.for_labels(labels)
    if keys.shape[0] == 0:
        return rank(features, label_weights, labels, logit_scale, top_k)
    logits = blend_logits(features, label_weights, logit_scale, keys, values, examples.alpha, examples.beta)
    return [top_guesses(row, labels, top_k) for row in logits.softmax(dim=-1)]


TUNE_ALPHAS = (0.5, 1.0, 2.0, 4.0, 8.0)
TUNE_BETAS = (1.0, 2.0, 3.5, 5.5, 8.0, 12.0)


def leave_one_out_top1(
    features: torch.Tensor,
    targets: torch.Tensor,
    label_weights: torch.Tensor,
    logit_scale: float,
    alpha: float,
    beta: float,
) -> float:
    """Top-1 accuracy on the taught examples themselves, each ranked with all the others as the cache.

    ``features`` ``[N, dim]`` unit embeddings, ``targets`` ``[N]`` label indices into ``label_weights``.
    """
    features = F.normalize(features.float(), dim=-1)
    values = F.one_hot(targets, label_weights.shape[0]).float()
    affinity = features @ features.T
    affinity.fill_diagonal_(-torch.inf)  # an example never sees itself: exp(-inf) = 0
    logits = logit_scale * features @ label_weights.float().T + alpha * torch.exp(-beta * (1.0 - affinity)) @ values
    best, nearest = affinity.max(dim=1)
    same = (best >= SAME_PICTURE).nonzero().flatten()
    if same.numel():
        logits[same, targets[nearest[same]]] = logits[same].max(dim=1).values + SAME_MARGIN
    return float((logits.argmax(dim=1) == targets).float().mean()) if len(targets) else 0.0


def tune_blend(
    features: torch.Tensor,
    targets: torch.Tensor,
    label_weights: torch.Tensor,
    logit_scale: float,
    alphas: Sequence[float] = TUNE_ALPHAS,
    betas: Sequence[float] = TUNE_BETAS,
) -> list[tuple[float, float, float]]:
    """(α, β, leave-one-out top-1) for each pair of the grid, best first; ties favour the defaults' neighbours."""

    def distance(alpha: float, beta: float) -> float:
        return abs(np.log(alpha / DEFAULT_ALPHA)) + abs(np.log(beta / DEFAULT_BETA))

    results = [
        (alpha, beta, leave_one_out_top1(features, targets, label_weights, logit_scale, alpha, beta))
        for alpha in alphas
        for beta in betas
    ]
    return sorted(results, key=lambda r: (-r[2], distance(r[0], r[1])))
