"""Players' and senders' names, cleaned once (pure: no Telegram).

A name comes from a client (a user's first name, a channel's title): direction
controls and edge invisibles are stripped (``bot.labels.clean_text``), and it is
cut to ``MAX_NAME_LENGTH`` so one long name cannot crowd the standings.
"""

from .labels import clean_text

MAX_NAME_LENGTH = 32


def clean_name(text: str | None, fallback: str, limit: int = MAX_NAME_LENGTH) -> str:
    """``text`` made safe to show (``fallback`` when nothing is left), at most ``limit`` characters."""
    name = clean_text(text or "") or fallback
    return name if len(name) <= limit else name[: limit - 1] + "…"
