"""Defaults shared by the classifier, its command line and the bot (no heavy imports)."""

DEFAULT_MODEL = "ViT-B-32-quickgelu"
DEFAULT_PRETRAINED = "openai"
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEFAULT_DB = "~/.local/share/toonzoo/toonzoo.db"
