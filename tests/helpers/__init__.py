"""What the tests share, in one place; no test module imports another.

- ``pictures``: ``png_bytes`` (the one PNG maker: a solid colour, or random blocks
  per ``seed``) and ``webp_bytes``.
- ``waiting``: ``until``, the one wait for a condition (async; ``wait_until`` for plain tests).
- ``bot``: the running bot against the fake Bot API (``running_bot``, ``settings_for``),
  predicates on its calls (``in_chat``, ``replying_to``), reading its replies
  (``guessed_labels``, ``sent_message_id``), and the group game (``game_bot``,
  ``start``, ``ask_forget``, ``play_one_round``).
- ``engine``: the gated classifier that lets an engine test decide when the model runs.
- ``canvas``: signed init data and calls to the drawing canvas's API.
- ``decode``: conversions light enough for a decode worker process to import.

Fixtures (the tiny CLIP, the fake Bot API, a fresh database) are in ``tests/conftest.py``.
This package imports nothing heavy here: a decode worker imports ``helpers.decode``.
"""
