"""The Telegram side of toonzoo: settings, storage, texts and handlers.

Importing ``bot`` is cheap: no torch, no telegram. Modules that need those
import them themselves.
"""
