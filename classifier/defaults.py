"""Defaults and limits shared by the classifier, its command line and the bot (no heavy imports)."""

DEFAULT_MODEL = "ViT-B-32-quickgelu"
DEFAULT_PRETRAINED = "openai"
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")  # int8: CPU only (classifier.precision)
DEFAULT_DB = "~/.local/share/toonzoo/toonzoo.db"
MAX_PICTURE_BYTES = 20 * 2**20  # Telegram lets bots download at most 20 MB; the decoder takes no more
MAX_PICTURE_PIXELS = 40_000_000
# The serving engine's knobs (classifier.engine.Engine; TOONZOO_MAX_BATCH, ... for the bot).
MAX_BATCH = 16  # on a GPU
# On a CPU a bigger batch buys no speed (raw ViT-B/32 on 2 cores: batch 8 16.7 img/s, 16 15.2) and costs latency.
CPU_MAX_BATCH = 8
MAX_WAIT_MS = 5.0
MAX_QUEUE = 64
DECODE_WORKERS = 0  # 0: decode in one thread of the serving process; N: N worker processes
# Few-shot cache model over taught pictures (classifier.few_shot): Tip-Adapter's published ImageNet setting.
FEW_SHOT_ALPHA = 1.0
FEW_SHOT_BETA = 5.5


def default_max_batch(device_type: str) -> int:
    """Pictures per forward pass when not told: ``CPU_MAX_BATCH`` on a CPU, ``MAX_BATCH`` elsewhere."""
    return CPU_MAX_BATCH if device_type == "cpu" else MAX_BATCH
