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
    # In a game (the page follows GET /api/round): the round, its target, results and the final standings.
    # TRANSLATORS: the canvas's round counter, e.g. "Round 2/5"
    "round_no": Text("Round {round}/{rounds}"),
    # TRANSLATORS: the round's target on the canvas, e.g. "Draw: giraffe 🦒" (any label, no article)
    "draw_target": Text("Draw: {target} {emoji}"),
    # TRANSLATORS: the AI speaks while you draw; {label} is its top guess, any label, no article ("I see… cloud?")
    "say_see": Text("I see… {label}?"),
    # TRANSLATORS: the AI's next, different guess after "I see… cloud?" ("or snake?")
    "say_or": Text("or {label}?"),
    # TRANSLATORS: the AI recognised the round's target: the drawer wins ("Oh, I know! It's giraffe!")
    "say_know": Text("Oh, I know! It's {label}!"),
    "say_no_idea": Text("Hmm, no idea yet."),
    "you_won": Text("You got it! 🎉"),
    # TRANSLATORS: another player won the round; {name} is their Telegram name
    "they_won": Text("{name} got it!"),
    # TRANSLATORS: the round's time ran out without a winner; {target} {emoji} as in "Draw: giraffe 🦒"
    "nobody_won": Text("Nobody got it: {target} {emoji}"),
    "next_round": Text("Next round coming…"),
    "times_up": Text("Time's up!"),
    "game_over": Text("Game over"),
    # TRANSLATORS: the game's list of rounds: "1. zebra 🦓 · nobody" (no one won that round)
    "nobody": Text("nobody"),
    # TRANSLATORS: under a solo round's drawing: the AI's top guesses for it, e.g. "I thought: horse, zebra, donkey"
    "ai_thought": Text("I thought: {labels}"),
    # TRANSLATORS: a solo round in which nothing was drawn on this page
    "not_drawn": Text("Nothing drawn"),
    # TRANSLATORS: the canvas's voice toggle (the browser reads the AI's guesses aloud); off by default
    "voice": Text("Read the guesses aloud"),
    # On this computer (toonzoo try): pictures dropped or chosen, and the labels to guess between.
    "local_hint": Text("Draw something ✏️ or drop a picture"),
    # TRANSLATORS: a button that opens the file chooser (toonzoo try, on the user's own computer)
    "choose": Text("🖼 Choose a picture"),
    "picture_failed": Text("That picture can't be read."),
    # TRANSLATORS: the text field holding the labels the AI guesses between
    "labels": Text("Labels"),
    # TRANSLATORS: the button beside the labels field: guess between the labels typed there
    "use_labels": Text("Use"),
    # TRANSLATORS: the word pack picker's first line (packs are named as /game takes them: animals, quickdraw)
    "pack_none": Text("Word pack…"),
    # TRANSLATORS: after the labels changed: how many there are now
    "labels_set": Text("Labels: {count}."),
    "preparing": Text("Preparing the labels…"),
    # After a solo race: its card, shared through Telegram (bot.cards).
    # TRANSLATORS: the button at the end of a solo race that shares its card into a chat
    "share": Text("Share"),
    "shared": Text("Shared ✓"),
    "share_failed": Text("Sharing failed ({status})."),
    # In a private chat with no game on (the canvas opened from the menu): a button that starts a solo race.
    # TRANSLATORS: the canvas's button that starts a solo race against the AI (what /play does)
    "play_solo": Text("▶ Play solo"),
    # TRANSLATORS: the same button after a solo race ended: start another one
    "play_again": Text("▶ Play again"),
    "play_failed": Text("Couldn't start the race ({status})."),
    # After a solo race on the user's own computer (toonzoo try): their best race so far, kept there.
    # TRANSLATORS: under a solo race's end on the user's computer, e.g. "Your personal best: 4 of 6."
    "best": Text("Your personal best: {won} of {rounds}."),
    "new_best": Text("🏅 A new personal best: {won} of {rounds}!"),
    # TRANSLATORS: the button under a solo race's end on the user's computer: back to drawing with live guesses
    "back": Text("✏️ Back to drawing"),
}


def page_texts(t: Translator) -> dict[str, str]:
    """Every word of the page in ``t``'s language."""
    return {key: text(t) for key, text in PAGE_TEXTS.items()}
