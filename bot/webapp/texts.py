"""The canvas page's words, from the bot's gettext catalogues (pure data and one function).

The page (``static/draw.html``) shows English until it has fetched these
(``GET /api/texts``); keys are the page's names for them. The page's language
is the one the bot speaks in the canvas's chat: the chat's ``/language``, else
the user's Telegram language from the init data, else English.
"""

from ..i18n import Text, Translator

PAGE_TEXTS: dict[str, Text] = {
    "title": Text("toonzoo · draw"),
    "canvas": Text("Drawing canvas"),
    "hint": Text("Draw something ✏️"),
    "waiting": Text("I'll guess while you draw."),
    "seeing": Text("I see…"),
    "no_idea": Text("No idea yet."),
    "thin": Text("Thin line"),
    "medium": Text("Medium line"),
    "thick": Text("Thick line"),
    "undo": Text("↶ Undo"),
    "undo_label": Text("Undo"),
    "clear": Text("Clear"),
    # TRANSLATORS: the canvas's send button; /draw's help names it too ("and Send posts it here")
    "send": Text("Send"),
    "sending": Text("Sending…"),
    "sent_game": Text("Sent to the game ✓"),
    "sent_chat": Text("Sent to the chat ✓"),
    "guess_failed": Text("Guessing failed ({status})."),
    "send_failed": Text("Sending failed ({status})."),
    "offline": Text("No connection to the bot."),
    "outside": Text("Open this page from Telegram to get guesses."),
}


def page_texts(t: Translator) -> dict[str, str]:
    """Every word of the page in ``t``'s language."""
    return {key: text(t) for key, text in PAGE_TEXTS.items()}
