"""Texts the bot sends: guesses, help, label lists and short error replies.

Pure formatting, no telegram import. Every text is plain (send it without
``parse_mode``), so labels typed by users need no escaping.

Every sentence is in the gettext catalogue (``bot.i18n``): fixed ones are
``Text`` constants, said with ``TEXT(t)``; the others are functions taking the
``Translator`` ``t`` first. Sentences fit any label without articles or
inflection ("Draw: giraffe 🦒"), and default labels are shown in ``t``'s language.
"""

import math
from collections.abc import Iterable, Sequence
from datetime import date

from classifier.defaults import MAX_PICTURE_BYTES, MAX_PICTURE_PIXELS
from classifier.errors import ImageTooLarge, ImageTooManyPixels, UserError

from . import game as g
from .game import GuessLike
from .i18n import LANGUAGE_NAMES, LocalizedError, Text, Translator
from .names import clean_name
from .packs import WORD_EMOJI, find_identity, name_key
from .periods import Board, MyScore, streak

# Bot commands as (command, description): the help text lists them and the
# app registers them with setMyCommands, so the two never disagree.
COMMANDS: tuple[tuple[str, Text], ...] = (
    ("start", Text("Say hello and explain how I work")),
    ("help", Text("What I can do and how to use me")),
    ("guess", Text("Guess the picture you reply to")),
    ("labels", Text("Show or change the labels I choose from")),
    ("game", Text("Start a drawing game in this chat")),
    ("play", Text("Race me alone: 6 drawings of 20 seconds")),
    ("stop", Text("Stop the game")),
    ("score", Text("Show the game scores")),
    ("draw", Text("Draw on a canvas while I guess")),
    ("language", Text("Show or change the language I speak here")),
    ("forget", Text("Delete everything I keep about this chat")),
)

MESSAGE_LIMIT = 4096  # Telegram's longest text message, in UTF-16 code units
ALERT_LIMIT = 200  # the longest answerCallbackQuery text
CAPTION_LIMIT = 1024  # the longest photo caption
TOP_GUESSES = 3
BAR_CELLS = 8
UNSURE_BELOW = 0.35
GENERIC_EMOJI = "🖍️"
_EIGHTHS = "▏▎▍▌▋▊▉█"  # 1/8 … 8/8 of a cell
_BREAK_WINDOW = 200  # fit_text cuts at a line or word break this close to the limit

LABEL_EMOJI: dict[str, str] = {
    "ant": "🐜",
    "bat": "🦇",
    "bear": "🐻",
    "bee": "🐝",
    "bird": "🐦",
    "butterfly": "🦋",
    "camel": "🐫",
    "cat": "🐈",
    "chicken": "🐔",
    "cow": "🐄",
    "crab": "🦀",
    "crocodile": "🐊",
    "deer": "🦌",
    "dinosaur": "🦕",
    "dog": "🐕",
    "dolphin": "🐬",
    "dragon": "🐉",
    "duck": "🦆",
    "eagle": "🦅",
    "elephant": "🐘",
    "fish": "🐟",
    "flamingo": "🦩",
    "fox": "🦊",
    "frog": "🐸",
    "giraffe": "🦒",
    "goat": "🐐",
    "gorilla": "🦍",
    "hedgehog": "🦔",
    "hippo": "🦛",
    "hippopotamus": "🦛",
    "horse": "🐎",
    "kangaroo": "🦘",
    "koala": "🐨",
    "ladybug": "🐞",
    "leopard": "🐆",
    "lion": "🦁",
    "lizard": "🦎",
    "llama": "🦙",
    "monkey": "🐒",
    "mouse": "🐁",
    "octopus": "🐙",
    "owl": "🦉",
    "panda": "🐼",
    "parrot": "🦜",
    "peacock": "🦚",
    "penguin": "🐧",
    "pig": "🐖",
    "rabbit": "🐇",
    "raccoon": "🦝",
    "rhinoceros": "🦏",
    "rhino": "🦏",
    "rooster": "🐓",
    "scorpion": "🦂",
    "shark": "🦈",
    "sheep": "🐑",
    "skunk": "🦨",
    "sloth": "🦥",
    "snail": "🐌",
    "snake": "🐍",
    "spider": "🕷️",
    "squid": "🦑",
    "squirrel": "🐿️",
    "swan": "🦢",
    "tiger": "🐅",
    "turkey": "🦃",
    "turtle": "🐢",
    "unicorn": "🦄",
    "whale": "🐋",
    "wolf": "🐺",
    "zebra": "🦓",
}

_WORD_EMOJI = {**WORD_EMOJI, **LABEL_EMOJI}  # identity → emoji: the packs' words and more animals
START_TEXT_BODY = Text(
    "Send me a drawing (a photo, a picture file or a sticker) and I'll guess "
    "what it shows. In a group, reply to a picture with /guess."
)
UNSUPPORTED_STICKER_TEXT = Text("I can't look inside that animated sticker. Send a still sticker or a picture.")
UNSUPPORTED_ANIMATION_TEXT = Text("I can't look inside that animation. Send a still picture instead.")
PREPARING_TEXT = Text("Getting to know the new labels, this takes a moment…")
UNSUPPORTED_FILE_TEXT = Text("I can only look at pictures: send a photo, an image file or a sticker.")
NOTHING_TO_GUESS_TEXT = Text("Reply to a picture with /guess, or just send me a drawing.")
NOT_ADMIN_TEXT = Text("Only the group's admins can change the labels here.")
ERROR_TEXT = Text("Sorry, something went wrong on my side. Please try again in a moment.")
DOWNLOAD_FAILED_TEXT = Text("I couldn't fetch that picture from Telegram. Please send it again.")
FORGET_CONFIRM_TEXT = Text(
    "This erases everything I keep about this chat: its labels, games, scores and taught drawings. "
    "Pictures are never stored. Erase it?"
)
FORGET_YES, FORGET_NO = Text("Yes, erase"), Text("Cancel")
FORGOTTEN_TEXT = Text("Done: I've erased this chat's labels, games, scores and taught drawings.")
FORGET_CANCELLED_TEXT = Text("Nothing was erased.")
FORGET_NOT_YOURS_TEXT = Text("Only the person who asked (or an admin) can answer this.")
BUTTON_STALE_TEXT = Text("This question has expired or was already answered. Ask again if you still need to.")
BUTTON_UNKNOWN_TEXT = Text("This button doesn't do anything.")
NOT_ADMIN_FORGET_TEXT = Text("Only the group's admins can erase its data.")
UNKNOWN_COMMAND_TEXT = Text("I don't know that command. Send /help to see what I can do.")
NOT_A_PICTURE_TEXT = Text("I only look at pictures 🖍️ Send me a drawing (a photo, an image file or a sticker).")
# Teaching by corrections (bot.teach_handlers)
FEEDBACK_GOOD = "👍"
FEEDBACK_FIX = Text("✏️ Not right")
PICK_OTHER = Text("Other…")
PICK_PREV = "◀️"
PICK_NEXT = "▶️"
OFFER_ADD = Text("Add it")
OFFER_CANCEL = Text("Cancel")
TEACH_THANKS_TEXT = Text("Thanks!")
TEACH_GONE_TEXT = Text("I no longer have that picture in mind: send it again and correct me then.")
TEACH_NOT_YOURS_TEXT = Text("Only the person who sent the picture (or an admin) can correct me here.")
TEACH_TOO_MANY_TEXT = Text("You've taught me a lot this hour: try again later.")
TEACH_FULL_TEXT = Text("This label already keeps as many drawings as it can, taught by admins: an admin can make room.")
TEACH_TYPE_TEXT = Text("What is it? Reply to this message with its name.")
TEACH_OFFER_DECLINED_TEXT = Text("Not added: nothing was remembered.")
NOT_ADMIN_UNTRAIN_TEXT = Text("Only the group's admins can make me forget taught drawings here.")


def too_big_text(t: Translator) -> str:
    """A file over the download limit."""
    return t.gettext("That file is too big for me: send a picture under {mb} MB.").format(mb=MAX_PICTURE_BYTES // 2**20)


def error_text(t: Translator, error: UserError) -> str:
    """What to tell the user about an error they caused, in ``t``'s language."""
    if isinstance(error, LocalizedError):
        return error.say(t)
    if isinstance(error, ImageTooLarge):
        return too_big_text(t)
    if isinstance(error, ImageTooManyPixels):
        return t.gettext("That picture has too many pixels: send one under {mp} megapixels.").format(
            mp=MAX_PICTURE_PIXELS // 10**6
        )
    return t.gettext(error.user_message)  # the classifier's: collected by toonzoo_tools.catalogues


def format_guesses(t: Translator, guesses: Sequence[GuessLike], unsure_below: float = UNSURE_BELOW) -> str:
    """Top guesses, best first, one per line: ``🦒 giraffe  81% ██████▌``.

    Scores are probabilities (0..1); the bar has 8 cells for 100%. When the
    best score is below ``unsure_below`` a first line says so.
    """
    ranked = sorted(guesses, key=lambda g: _clamp(g.score), reverse=True)[:TOP_GUESSES]
    if not ranked:
        return t.gettext("I couldn't make a guess about that picture.")
    lines = [_guess_line(t, guess) for guess in ranked]
    if _clamp(ranked[0].score) < unsure_below:
        lines.insert(0, t.gettext("I'm not sure, but it might be:"))
    return "\n".join(lines)


def format_album_guesses(t: Translator, results: Sequence[Sequence[GuessLike] | str]) -> str:
    """One numbered section per picture of an album: its guesses, or why there are none.

    An album holds at most 10 items, which fit one message; sections that
    would not fit are cut and counted ("… and 2 more pictures").
    """
    sections = [
        f"{number}. {result if isinstance(result, str) else format_guesses(t, result)}"
        for number, result in enumerate(results, start=1)
    ]
    text = "\n\n".join(sections)
    while len(text) > MESSAGE_LIMIT and len(sections) > 1:
        sections.pop()
        more = len(results) - len(sections)
        text = "\n\n".join(sections) + "\n\n" + _n(t, "… and {n} more picture", "… and {n} more pictures", more)
    return text[:MESSAGE_LIMIT]


def format_guess_line(t: Translator, name: str, guesses: Sequence[GuessLike]) -> str:
    """One picture's guesses on one line, for a reply that answers several pictures:
    ``Ada: 🦒 giraffe 81% · 🦙 llama 9% · 🐎 horse 4%``."""
    ranked = sorted(guesses, key=lambda g: _clamp(g.score), reverse=True)[:TOP_GUESSES]
    if not ranked:
        return t.gettext("{name}: no guess").format(name=name)
    return f"{name}: " + " · ".join(
        f"{get_emoji(g.label)} {t.label(g.label)} {round(_clamp(g.score) * 100)}%" for g in ranked
    )


def format_bar(score: float, cells: int = BAR_CELLS) -> str:
    """A bar of ``cells`` full blocks for 1.0, drawn to the nearest eighth."""
    eighths = round(_clamp(score) * cells * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest - 1] if rest else "")


def get_emoji(label: str) -> str:
    """The emoji of a pack word in any language or a known animal ("jirafa", "Cats", "a koala" → 🦒, 🐈, 🐨), else 🖍️."""
    word = find_identity(label)
    if word is not None:
        return _WORD_EMOJI.get(word, GENERIC_EMOJI)
    key = name_key(label)
    for article in ("a ", "an ", "the "):
        if key.startswith(article):
            key = key[len(article) :].strip()
            break
    for candidate in (key, key.removesuffix("s"), key.removesuffix("es")):
        word = find_identity(candidate) or candidate
        if word in _WORD_EMOJI:
            return _WORD_EMOJI[word]
    return GENERIC_EMOJI


def build_help_text(t: Translator, commands: Iterable[tuple[str, Text]] = COMMANDS) -> str:
    """What the bot does and every command, one per line."""
    lines = [START_TEXT_BODY(t), "", t.gettext("Commands:")]
    lines += [f"/{command} – {description(t)}" for command, description in commands]
    lines += [
        "",
        t.gettext("Change what I choose between with /labels, e.g."),
        t.gettext("/labels cat, dog, bird"),
        t.gettext("/labels add zebra"),
        t.gettext("/labels remove bird"),
        "/labels reset",
        "",
        t.gettext(
            "Scores: /score (all time), /score week, /score today, /score me. "
            "Days and weeks follow UTC; a week starts on Monday."
        ),
    ]
    return "\n".join(lines)


def build_start_text(t: Translator, first_name: str | None = None) -> str:
    """A greeting, then what to send; ``first_name`` may be missing."""
    name = " ".join((first_name or "").split())[:64]
    greeting = t.gettext("Hi {name}! 👋").format(name=name) if name else t.gettext("Hi! 👋")
    return "\n".join((greeting, START_TEXT_BODY(t), t.gettext("See /help for everything I can do.")))


def build_group_greeting(t: Translator, bot_username: str | None) -> str:
    """What the bot says when it is added to a group."""
    if bot_username:
        return t.gettext(
            "Hi everyone! 👋 I guess what drawings show: mention {me} in a picture's caption "
            "or reply to a picture with /guess. /game starts a drawing game, /help tells you more."
        ).format(me=f"@{bot_username}")
    return t.gettext(
        "Hi everyone! 👋 I guess what drawings show: reply to a picture with /guess. "
        "/game starts a drawing game, /help tells you more."
    )


def format_labels(t: Translator, labels: Sequence[str], *, is_default: bool = False, prefix: str = "") -> str:
    """The label list (default labels in ``t``'s language) with how to change it; cut with "… and N more"."""
    shown_labels = [t.label(label) for label in labels]
    if is_default:
        head = _n(
            t,
            "I choose between {n} label (the default ones):",
            "I choose between {n} labels (the default ones):",
            len(labels),
        )
    else:
        head = _n(
            t,
            "I choose between {n} label (set for this chat):",
            "I choose between {n} labels (set for this chat):",
            len(labels),
        )
    head = prefix + head
    tail = t.gettext("Change them with /labels cat, dog, … or /labels add, remove, reset.")
    room = MESSAGE_LIMIT - text_length(head) - text_length(tail) - 4
    body = ", ".join(shown_labels)
    if text_length(body) > room:
        shown: list[str] = []
        used = 0
        for label in shown_labels:
            more = " " + _more(t, len(labels) - len(shown))
            if used + text_length(label) + 2 + text_length(more) > room:
                break
            shown.append(label)
            used += text_length(label) + 2
        body = ", ".join(shown) + " " + _more(t, len(labels) - len(shown))
    return f"{head}\n{body}\n\n{tail}"


def format_labels_changed(t: Translator, labels: Sequence[str], *, is_default: bool = False) -> str:
    """Confirmation after /labels changed the list (``is_default``: back to the defaults)."""
    return format_labels(t, labels, is_default=is_default, prefix=t.gettext("Done.") + " ")


def format_taught(t: Translator, label: str) -> str:
    """After a correction."""
    return t.gettext("Got it: {label} {emoji}. I'll remember this picture.").format(
        label=t.label(label), emoji=get_emoji(label)
    )


def format_new_label_offer(t: Translator, label: str) -> str:
    """A typed label the chat doesn't have, to an admin (a default animal in ``t``'s language)."""
    return t.gettext(
        "“{label}” isn't one of this chat's labels yet. Add it, and remember this picture as “{label}”?"
    ).format(label=t.label(label))


def format_new_label_refused(t: Translator, label: str) -> str:
    """A typed label the chat doesn't have, from someone who may not add labels (shown in ``t``'s language)."""
    return t.gettext("“{label}” isn't one of this chat's labels: an admin can add it with /labels add {label}").format(
        label=t.label(label)
    )


def format_taught_counts(t: Translator, counts: dict[str, int]) -> str:
    """``fox: 3 taught drawings`` per label, for /labels."""
    lines = [
        f"{t.label(label)}: " + _n(t, "{n} taught drawing", "{n} taught drawings", n)
        for label, n in sorted(counts.items(), key=lambda item: t.label(item[0]))
    ]
    head = t.gettext("Taught by corrections:")
    tail = t.gettext("(/labels untrain fox forgets a label's drawings)")
    return head + "\n" + "\n".join(lines) + "\n" + tail


def format_untrained(t: Translator, counts: dict[str, int]) -> str:
    """After /labels untrain."""
    parts = [
        f"{t.label(label)}: " + _n(t, "{n} taught drawing forgotten", "{n} taught drawings forgotten", n)
        for label, n in counts.items()
    ]
    return "\n".join(parts) if parts else t.gettext("Nothing was taught for that.")


def text_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is often 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit_text(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` if Telegram takes it, else cut at a line or word break near the limit, ending in "…"."""
    if text_length(text) <= limit:
        return text
    budget, cut = limit - 1, 0
    for cut, char in enumerate(text):  # noqa: B007 (cut is used after the loop)
        budget -= 2 if ord(char) > 0xFFFF else 1
        if budget < 0:
            break
    head = text[:cut]
    for separator in ("\n", " "):
        at = head.rfind(separator)
        if at >= len(head) - _BREAK_WINDOW and at > 0:
            head = head[:at]
            break
    return head.rstrip() + "…"


def _guess_line(t: Translator, guess: GuessLike) -> str:
    score = _clamp(guess.score)
    percent = round(score * 100)
    return f"{get_emoji(guess.label)} {t.label(guess.label)} {percent:>3}% {format_bar(score)}".rstrip()


def _clamp(score: float) -> float:
    try:
        value = float(score)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, value))


def _n(t: Translator, singular: str, plural: str, n: int) -> str:
    """The plural form for ``n`` with ``{n}`` filled in."""
    return t.ngettext(singular, plural, n).format(n=n)


def _more(t: Translator, n: int) -> str:
    return _n(t, "… and {n} more", "… and {n} more", n)


# -- the chat's language ----------------------------------------------------------------

LANGUAGE_USAGE_TEXT = Text("Usage: /language en, /language es, /language ru, or /language auto.")
NOT_ADMIN_LANGUAGE_TEXT = Text("Only the group's admins can change my language here.")


def format_language(t: Translator, chosen: bool) -> str:
    """/language: the language spoken here (``t``'s), whether the chat chose it, and how to change it."""
    name = LANGUAGE_NAMES[t.language]
    if chosen:
        head = t.gettext("Language in this chat: {language} (chosen with /language).").format(language=name)
    else:
        head = t.gettext("Language: {language}, from your Telegram settings.").format(language=name)
    return f"{head}\n{LANGUAGE_USAGE_TEXT(t)}\n" + t.gettext(
        "/language auto: I answer everyone in the language of their Telegram app."
    )


def format_language_set(t: Translator, chosen: bool) -> str:
    """Confirmation of /language, in the new language (``chosen`` False: back to automatic)."""
    if chosen:
        return t.gettext("Done: this chat's language is now {language}.").format(language=LANGUAGE_NAMES[t.language])
    return t.gettext("Done: I answer everyone here in the language of their Telegram app.")


def format_english_only_warning(t: Translator, labels: Sequence[str]) -> str:
    """One warning when labels that are not English are set and the model reads English only."""
    quoted = ", ".join(f"«{label}»" for label in labels[:5]) + (" …" if len(labels) > 5 else "")
    return t.ngettext(
        "This model reads English labels best; {labels} may be guessed poorly. "
        "The bot's owner can switch to the multilingual model.",
        "This model reads English labels best; {labels} may be guessed poorly. "
        "The bot's owner can switch to the multilingual model.",
        len(labels),
    ).format(labels=quoted)


# -- the drawing game ----------------------------------------------------------------

GAME_PRIVATE_TEXT = Text(
    "The drawing game is played in groups: add me to a group and send /game there. "
    "Here, race me alone with /play, or just send me a drawing and I'll guess what it is."
)
GAME_RUNNING_TEXT = Text("A game is already running here. /stop ends it.")
PLAY_IN_PRIVATE_TEXT = Text("Solo races are played in a private chat with me: send me /play there.")
NO_GAME_TEXT = Text("No game is running here. Start one with /game.")
NO_SCORES_TEXT = Text("No scores here yet. Start a drawing game with /game!")
ANONYMOUS_ADMIN_NAME = Text("Anonymous admin")  # a group admin posting as the group
MEDALS = ("🥇", "🥈", "🥉")
STANDINGS_SHOWN = 20


def format_stop_refused(t: Translator, starter_name: str) -> str:
    if starter_name:
        return t.gettext("Only {name} or a group admin can stop this game.").format(name=starter_name)
    return t.gettext("Only the player who started it or a group admin can stop this game.")


def format_game_event(t: Translator, event: "g.Event") -> str | None:
    """The chat's text for one game event; None for events the chat doesn't hear about."""
    match event:
        case g.GameStarted(total_rounds=total, seconds=seconds, asked_rounds=asked):
            rounds = _n(t, "{n} round", "{n} rounds", total)
            capped = (
                " " + _n(t, "(only {n} label to draw, so {n})", "(only {n} labels to draw, so {n})", total)
                if asked > total
                else ""
            )
            head = t.gettext("🎨 Drawing game! {rounds}{capped} of {time}.").format(
                rounds=rounds, time=_secs(t, seconds), capped=capped
            )
            return (
                head
                + " "
                + t.gettext(
                    "Everyone can play: draw what I name and send it here as a picture. "
                    "The first drawing I recognise wins the round. /stop ends the game."
                )
            )
        case g.RoundStarted(number=number, total_rounds=total, target=target, seconds=seconds):
            return t.gettext("Round {number}/{total}. Draw: {label} {emoji}! You have {time}.").format(
                number=number, total=total, label=t.label(target), emoji=get_emoji(target), time=_secs(t, seconds)
            )
        case g.TimeWarning(target=target, left_s=left):
            return t.gettext("⏳ Time left: {time}. Draw: {label}!").format(time=_secs(t, left), label=t.label(target))
        case g.Judged(won=False, seen=seen, target=target, target_score=score):
            return t.gettext("I see: {seen} {emoji}… keep trying! ({label}: {percent}%)").format(
                seen=t.label(seen), emoji=get_emoji(seen), label=t.label(target), percent=_percent(score)
            )
        case g.RoundWon(name=name, target=target, win_s=win_s, points=points):
            return t.gettext("🎉 {name} wins the round: {label} {emoji} in {time}! ({points})").format(
                name=name,
                label=t.label(target),
                emoji=get_emoji(target),
                time=_secs(t, win_s),
                points=_points(t, points),
            )
        case g.RoundTimedOut(target=target, winner=None):
            return t.gettext("⏰ Time's up! Nobody drew anything I recognised as: {label}.").format(
                label=t.label(target)
            )
        case g.RoundTimedOut(target=target, winner=g.Best(name=name, score=score)):
            return t.gettext(
                "⏰ Time's up! Nobody drew anything I was sure was: {label}, but {name} came closest "
                "({percent}%): the round goes to {name}."
            ).format(label=t.label(target), name=name, percent=_percent(score))
        case g.BackOnline():
            return t.gettext("I'm back after a restart.")
        case g.RoundResumed(number=number, total_rounds=total, target=target, left_s=left):
            return t.gettext("Round {number}/{total} goes on. Draw: {label} {emoji}! Time left: {time}.").format(
                number=number, total=total, label=t.label(target), emoji=get_emoji(target), time=_secs(t, left)
            )
        case g.GameOver(standings=players):
            return "\n".join(
                (
                    format_game_over_head(t, event),
                    format_standings(t, players),
                    t.gettext("See /score for the all-time scores."),
                )
            )
    return None


def format_game_over_head(t: Translator, event: "g.GameOver") -> str:
    """The first line of the game's end: finished, stopped (by whom), or abandoned."""
    if event.reason == "finished":
        return t.gettext("🏁 Game over!")
    if event.reason == "stopped" and event.stopped_by:
        return t.gettext("🛑 Game stopped by {name}.").format(name=event.stopped_by)
    if event.reason == "stopped":
        return t.gettext("🛑 Game stopped.")
    if event.reason == "abandoned":
        return t.gettext("I was away too long for this game to go on, so it's over.")
    return t.gettext("The game is over.")


def format_verdict_line(t: Translator, event: "g.Judged") -> str:
    """A "keep trying" verdict as one line among others: ``Ada: I see: llama 🦙 (giraffe: 12%)``."""
    return t.gettext("{name}: I see: {seen} {emoji} ({label}: {percent}%)").format(
        name=event.name,
        seen=t.label(event.seen),
        emoji=get_emoji(event.seen),
        label=t.label(event.target),
        percent=_percent(event.target_score),
    )


def format_standings(t: Translator, players: Sequence["g.Player"], limit: int = STANDINGS_SHOWN) -> str:
    """One line per player, best first: medal or rank, name, points, drawing time."""
    if not any(player.points for player in players):
        return t.gettext("Nobody scored this time.")
    lines = [_player_line(t, i, player) for i, player in enumerate(players[:limit])]
    if len(players) > limit:
        lines.append(_more(t, len(players) - limit))
    return "\n".join(lines)


def format_leaderboard(t: Translator, players: Sequence["g.Player"], board: Board = Board.ALL_TIME) -> str:
    """/score, /score week, /score today: the chat's best players of all time or of the period (UTC)."""
    if not players:
        if board is Board.WEEK:
            return t.gettext("No wins this week yet (a week starts on Monday, UTC). Start a drawing game with /game!")
        if board is Board.TODAY:
            return t.gettext("No wins today yet (days follow UTC). Start a drawing game with /game!")
        return NO_SCORES_TEXT(t)
    if board is Board.WEEK:
        head = t.gettext("🏆 This week's scores (since Monday, UTC):")
    elif board is Board.TODAY:
        head = t.gettext("🏆 Today's scores (UTC):")
    else:
        head = t.gettext("🏆 All-time scores in this chat:")
    return "\n".join([head, *(_player_line(t, i, player) for i, player in enumerate(players))])


def format_my_score(t: Translator, name: str, score: MyScore, today: date) -> str:
    """/score me: the player's rounds won here, their fastest win and their current streak of days (UTC)."""
    name = clean_name(name, t.gettext("Player"))
    if not score.points:
        return t.gettext("{name}: no wins in this chat yet. Start a drawing game with /game!").format(name=name)
    lines = [
        t.gettext("📊 {name} in this chat:").format(name=name),
        "🏆 " + _n(t, "{n} round won", "{n} rounds won", score.points),
    ]
    if score.best_s is not None:
        lines.append("⚡ " + t.gettext("Fastest win: {time}").format(time=_secs(t, score.best_s)))
    days = streak(score.days, today)
    lines.append("🔥 " + _n(t, "{n} day in a row with a win", "{n} days in a row with a win", days))
    return "\n".join(lines)


def _player_line(t: Translator, index: int, player: "g.Player") -> str:
    rank = MEDALS[index] if index < len(MEDALS) and player.points else f"{index + 1}."
    timing = f" ({_secs(t, player.time_s)})" if player.points else ""
    name = clean_name(player.name, t.gettext("Player"))
    return f"{rank} {name}: {_points(t, player.points)}{timing}"


def format_points(t: Translator, points: int) -> str:
    """``3 points``, in ``t``'s language."""
    return _points(t, points)


def format_seconds(t: Translator, seconds: float) -> str:
    """``45 s``, ``2 min 5 s``, in ``t``'s language."""
    return _secs(t, seconds)


def format_more(t: Translator, n: int) -> str:
    """``… and 3 more``, in ``t``'s language."""
    return _more(t, n)


def _points(t: Translator, points: int) -> str:
    return _n(t, "{n} point", "{n} points", points)


def _percent(score: float) -> int:
    return round(_clamp(score) * 100)


def _secs(t: Translator, seconds: float) -> str:
    whole = max(0, round(seconds))
    if whole < 120:
        return t.gettext("{n} s").format(n=whole)
    minutes, rest = divmod(whole, 60)
    if rest:
        return t.gettext("{minutes} min {seconds} s").format(minutes=minutes, seconds=rest)
    return t.gettext("{minutes} min").format(minutes=minutes)


# The drawing canvas (a Mini App: bot.webapp).
DRAW_BUTTON = Text("🎨 Draw")
DRAW_HERE_BUTTON = Text("🎨 Draw here")
DRAW_TEXT = Text("Draw something on the canvas: I guess while you draw, and Send posts it here.")
DRAW_GROUP_TEXT = Text("The canvas opens in a private chat with me; in a game, each round has a 🎨 Draw here link.")
DRAW_OFF_TEXT = Text("The drawing canvas isn't set up on this bot. Send me a photo of a drawing instead.")


def format_canvas_caption(t: Translator, name: str | None, guesses: Sequence[GuessLike] | None = None) -> str:
    """The caption of a drawing the bot posts from the canvas: who drew it, and the guesses if any."""
    if name:
        head = t.gettext("🎨 {name} drew this on the canvas.").format(name=name)
    else:
        head = t.gettext("🎨 Drawn on the canvas.")
    text = head if guesses is None else f"{head}\n{format_guesses(t, guesses)}"
    return fit_text(text, CAPTION_LIMIT)


def format_solo_best(t: Translator, won: int, rounds: int, best: int, new: bool) -> str:
    """The line under a solo race's end: a new personal best, or the best to beat."""
    if new:
        return t.gettext("🏅 A new personal best: {won} of {rounds}!").format(won=won, rounds=rounds)
    return t.gettext("Your personal best: {best} of {rounds}. Beat it with /play!").format(best=best, rounds=rounds)


# A solo race's card (bot.cards): shared from the canvas or inline (@bot in any chat).
# TRANSLATORS: the button under a shared race card; it opens a private chat with the bot
CARD_BUTTON = Text("🎨 Race the AI")
# TRANSLATORS: inline mode (@bot in a chat) when the user has no race card yet; it opens a private chat with the bot
NO_CARD_BUTTON = Text("No card yet: race me with /play")


def format_card_caption(t: Translator, won: int, rounds: int) -> str:
    """A shared race card's caption: the player's score, as a challenge."""
    # TRANSLATORS: the caption of a race card someone shares: their score, e.g. "Can you beat 5/6?"
    return t.gettext("Can you beat {won}/{rounds}?").format(won=won, rounds=rounds)
