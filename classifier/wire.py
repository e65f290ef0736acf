"""What travels between a remote engine (``classifier.remote``) and ``toonzoo serve`` (``classifier.serve``).

Pure functions, no I/O. The service has three routes:

    GET  /info          -> JSON {"identity", "languages", "logit_scale", "dim", "cache_identity"}
    POST /embed_image   picture bytes -> the unit image embedding, ``dim`` float32 (little-endian);
                        an unreadable picture: 422 JSON {"error": "NotAnImage", "detail": "..."}
    POST /embed_texts   JSON {"prompts": [...]} -> ``[n, dim]`` float32 unit text embeddings

Raw float32 instead of JSON numbers: a ViT-B/32 embedding is 2 KB, parsed with one ``frombuffer``.
With a secret (``TOONZOO_ENGINE_SECRET``) every request carries ``Authorization: Bearer <secret>``.
"""

import hmac
import ipaddress
import json
from dataclasses import dataclass

import numpy as np

from . import errors
from .defaults import MAX_PICTURE_BYTES
from .errors import ClassifierError, ImageError, InferenceFailed

INFO_PATH = "/info"
IMAGE_PATH = "/embed_image"
TEXTS_PATH = "/embed_texts"
REPLICA_HEADER = "X-Toonzoo-Replica"  # which replica answered (its process id): how requests spread
BATCH_HEADER = "X-Toonzoo-Batch"  # how many pictures the answer's forward pass held: how well it batches
MAX_PROMPTS = 256  # prompts in one embed_texts request (the label cache sends 32 at a time)
MAX_PROMPT_CHARS = 1000
MAX_IMAGE_BYTES = MAX_PICTURE_BYTES
_IMAGE_ERRORS = {
    cls.__name__: cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, ImageError)
}


@dataclass(frozen=True)
class ServiceInfo:
    """What a service says of its model; a client refuses a service whose ``identity`` is not its own.

    ``cache_identity`` keys the client's label cache: the identity, plus the precision where that changes
    the embeddings (``LoadedModel.cache_identity``: an int8 service's embeddings are not fp32's).
    """

    identity: str
    languages: tuple[str, ...]
    logit_scale: float
    dim: int
    cache_identity: str = ""

    def __post_init__(self) -> None:
        if not self.cache_identity:
            object.__setattr__(self, "cache_identity", self.identity)

    def as_json(self) -> dict:
        return {
            "identity": self.identity,
            "languages": list(self.languages),
            "logit_scale": self.logit_scale,
            "dim": self.dim,
            "cache_identity": self.cache_identity,
        }

    @classmethod
    def from_json(cls, data: object) -> "ServiceInfo":
        """Raises ValueError when ``data`` is not what ``/info`` answers."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        try:
            info = cls(
                str(data["identity"]),
                tuple(map(str, data["languages"])),
                float(data["logit_scale"]),
                int(data["dim"]),
                str(data.get("cache_identity") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from None
        if info.dim < 1 or not info.identity:
            raise ValueError("empty identity or dimension")
        return info


def vectors_to_bytes(vectors) -> bytes:
    """A ``[dim]`` or ``[n, dim]`` tensor or array -> float32 little-endian bytes."""
    array = vectors.detach().cpu().numpy() if hasattr(vectors, "detach") else np.asarray(vectors)
    return array.astype("<f4").tobytes()


def vectors_from_bytes(data: bytes, dim: int) -> np.ndarray:
    """float32 bytes -> ``[n, dim]`` array; ValueError when the length is not a whole number of vectors."""
    if dim < 1 or len(data) % (4 * dim):
        raise ValueError(f"{len(data)} bytes are not whole {dim}-dimensional float32 vectors")
    return np.frombuffer(data, dtype="<f4").reshape(-1, dim).astype(np.float32)


def auth_headers(secret: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def authorized(header: str | None, secret: str | None) -> bool:
    """Whether an ``Authorization`` header value carries ``secret`` (always true without a secret)."""
    if not secret:
        return True
    expected = f"Bearer {secret}".encode()
    return hmac.compare_digest((header or "").encode(), expected)


def error_json(exc: ImageError) -> dict:
    return {"error": type(exc).__name__, "detail": str(exc)}


def error_from_json(data: object) -> ClassifierError:
    """The error a service reported for a picture: the same ImageError class when it is one, else InferenceFailed."""
    name = data.get("error") if isinstance(data, dict) else None
    detail = str(data.get("detail", "")) if isinstance(data, dict) else ""
    cls = _IMAGE_ERRORS.get(name) if isinstance(name, str) else None
    if cls is None:
        return InferenceFailed(f"the engine service failed: {name or data!r} {detail}".strip())
    return cls(detail or None)


def parse_prompts(body: bytes) -> list[str]:
    """An embed_texts request body -> its prompts; ValueError for anything else (the body is untrusted)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not JSON") from None
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise ValueError('expected {"prompts": [one or more strings]}')
    if len(prompts) > MAX_PROMPTS or any(len(p) > MAX_PROMPT_CHARS for p in prompts):
        raise ValueError(f"at most {MAX_PROMPTS} prompts of at most {MAX_PROMPT_CHARS} characters")
    return prompts


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this computer (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(host: str, secret: str | None) -> None:
    """Refuse to serve a model beyond this computer without a secret (ValueError, one line)."""
    if not secret and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host} without a secret: set TOONZOO_ENGINE_SECRET (on the service and on "
            "every bot), or listen on 127.0.0.1"
        )
