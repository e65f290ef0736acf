"""Sentences in Spanish and Russian: none left in English, and wording as a native reader would put it."""

import pytest

from bot import game as g
from bot import replies
from bot.i18n import get_translator

SPANISH, RUSSIAN = get_translator("es"), get_translator("ru")


@pytest.mark.parametrize(
    ("t", "start_line", "game_over_line"),
    [
        (SPANISH, "Mira /help para ver todo lo que sé hacer.", "Mira /score para ver las puntuaciones de siempre."),
        (RUSSIAN, "Всё, что я умею, — в /help.", "Счёт за всё время — в /score."),
    ],
)
def test_the_last_lines_of_start_and_game_over_are_translated(t, start_line, game_over_line):
    assert replies.build_start_text(t, "Ana").splitlines()[-1] == start_line
    over = replies.format_game_event(t, g.GameOver("finished", (g.Player(1, "Ana", 2, 10.0),)))
    assert over is not None and over.splitlines()[-1] == game_over_line


def test_spanish_wording():
    t = SPANISH
    assert "Cambia las opciones entre las que elijo con /labels, por ejemplo:" in replies.build_help_text(t)
    timed_out = replies.format_game_event(t, g.RoundTimedOut(1, "horse", None))
    assert timed_out == "⏰ ¡Se acabó el tiempo! Nadie dibujó nada que yo reconociera como caballo."
    assert t.gettext("{name}: no guess").format(name="Ana") == "Ana: no lo sé"
    for greeting in (replies.build_group_greeting(t, "toonzoo_bot"), replies.build_group_greeting(t, None)):
        assert "/help te cuenta más" in greeting


def test_russian_wording():
    t = RUSSIAN
    stopped = replies.format_game_event(t, g.GameOver("stopped", (), stopped_by="Иван"))
    assert stopped is not None and stopped.splitlines()[0] == "🛑 Игра остановлена (Иван)."
    assert replies.TEACH_OFFER_DECLINED_TEXT(t) == "Не добавил и ничего не запомнил."
