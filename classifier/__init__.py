"""Zero-shot drawing classification with CLIP (open_clip).

This package knows nothing about Telegram. Heavy modules (torch, open_clip)
are imported by the submodules that need them, so importing
``classifier.errors`` or ``classifier.types`` stays cheap.
"""
