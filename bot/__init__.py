"""The toonzoo Telegram bot: pictures in, guesses out. Knows nothing about tensors.

Importing ``bot`` is cheap: no torch, no telegram. Modules that need those
import them themselves.
"""
