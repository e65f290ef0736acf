"""The game as the canvas page reads it (``GET /api/round``, and ``round`` in ``POST /api/guess``): pure.

Names are in the page's language (``Translator.label``); the clock is the
server's: ``ends_in_s`` is the time left when the answer was made, and the page
counts down from it on its own monotonic clock.
"""

from typing import Any

from ..game import RoundView
from ..i18n import Translator
from ..replies import get_emoji

TOP_SHOWN = 3  # live guesses shown under the canvas


def round_json(view: RoundView | None, t: Translator, *, solo: bool = False) -> dict[str, Any]:
    """The page's view of a game; ``{"state": "none"}`` outside one (``solo``: in a private chat, where the
    page offers to start a solo race)."""
    if view is None:
        return {"state": "none", "language": t.language, "solo": solo}
    target = view.target
    return {
        "state": view.state.value,
        "round": view.number,
        "rounds": view.total_rounds,
        "target": t.label(target) if target is not None else None,
        "emoji": get_emoji(target) if target is not None else None,
        "ends_in_s": round(view.ends_in_s, 2) if view.ends_in_s is not None else None,
        "winner": {"name": view.winner} if view.winner else None,
        "language": t.language,
        "solo": solo,
        "standings": [{"name": player.name, "points": player.points} for player in view.standings],
        "results": [
            {"round": r.number, "target": t.label(r.target), "emoji": get_emoji(r.target), "winner": r.winner}
            for r in view.results
        ],
    }
