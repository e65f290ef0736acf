"""Texts the bot sends: guesses, help, label lists and short error replies.

Pure formatting, no telegram import. Every text is plain (send it without
``parse_mode``), so labels typed by users need no escaping.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Protocol

from classifier.defaults import MAX_PICTURE_BYTES
from classifier.errors import EngineBusy

from . import game as g
from .labels import clean_text

# Bot commands as (command, description): the help text lists them and the
# app registers them with setMyCommands, so the two never disagree.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Say hello and explain how I work"),
    ("help", "What I can do and how to use me"),
    ("guess", "Guess the picture you reply to"),
    ("labels", "Show or change the labels I choose from"),
    ("game", "Start a drawing game in this chat"),
    ("stop", "Stop the game"),
    ("score", "Show the game scores"),
    ("draw", "Draw on a canvas while I guess"),
    ("forget", "Delete everything I keep about this chat"),
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

START_TEXT_BODY = (
    "Send me a drawing (a photo, a picture file or a sticker) and I'll guess "
    "what it shows. In a group, reply to a picture with /guess."
)
BUSY_TEXT = EngineBusy.user_message
TOO_BIG_TEXT = f"That file is too big for me: send a picture under {MAX_PICTURE_BYTES // 2**20} MB."
UNSUPPORTED_STICKER_TEXT = "I can't look inside that animated sticker. Send a still sticker or a picture."
UNSUPPORTED_ANIMATION_TEXT = "I can't look inside that animation. Send a still picture instead."
PREPARING_TEXT = "Getting to know the new labels, this takes a moment…"
UNSUPPORTED_FILE_TEXT = "I can only look at pictures: send a photo, an image file or a sticker."
NOTHING_TO_GUESS_TEXT = "Reply to a picture with /guess, or just send me a drawing."
NOT_ADMIN_TEXT = "Only the group's admins can change the labels here."
ERROR_TEXT = "Sorry, something went wrong on my side. Please try again in a moment."
DOWNLOAD_FAILED_TEXT = "I couldn't fetch that picture from Telegram. Please send it again."
FORGET_CONFIRM_TEXT = (
    "This erases everything I keep about this chat: its labels, games and scores. Pictures are never stored. Erase it?"
)
FORGET_YES, FORGET_NO = "Yes, erase", "Cancel"
FORGOTTEN_TEXT = "Done: I've erased this chat's labels, games and scores."
FORGET_CANCELLED_TEXT = "Nothing was erased."
FORGET_NOT_YOURS_TEXT = "Only the person who asked (or an admin) can answer this."
BUTTON_STALE_TEXT = "This question has expired or was already answered. Ask again if you still need to."
BUTTON_UNKNOWN_TEXT = "This button doesn't do anything."
NOT_ADMIN_FORGET_TEXT = "Only the group's admins can erase its data."
UNKNOWN_COMMAND_TEXT = "I don't know that command. Send /help to see what I can do."
# Teaching by corrections (bot.teach_handlers)
FEEDBACK_GOOD = "👍"
FEEDBACK_FIX = "✏️ Not right"
PICK_OTHER = "Other…"
PICK_PREV = "◀️"
PICK_NEXT = "▶️"
OFFER_ADD = "Add it"
OFFER_CANCEL = "Cancel"
TEACH_THANKS_TEXT = "Thanks!"
TEACH_GONE_TEXT = "I no longer have that picture in mind: send it again and correct me then."
TEACH_NOT_YOURS_TEXT = "Only the person who sent the picture (or an admin) can correct me here."
TEACH_TOO_MANY_TEXT = "You've taught me a lot this hour: try again later."
TEACH_TYPE_TEXT = "What is it? Reply to this message with its name."
TEACH_OFFER_DECLINED_TEXT = "Not added: nothing was remembered."
NOT_ADMIN_UNTRAIN_TEXT = "Only the group's admins can make me forget taught drawings here."
NOT_A_PICTURE_TEXT = "I only look at pictures 🖍️ Send me a drawing (a photo, an image file or a sticker)."


class GuessLike(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def score(self) -> float: ...


def format_guesses(guesses: Sequence[GuessLike], unsure_below: float = UNSURE_BELOW) -> str:
    """Top guesses, best first, one per line: ``🦒 giraffe  81% ██████▌``.

    Scores are probabilities (0..1); the bar has 8 cells for 100%. When the
    best score is below ``unsure_below`` a first line says so.
    """
    ranked = sorted(guesses, key=lambda g: _clamp(g.score), reverse=True)[:TOP_GUESSES]
    if not ranked:
        return "I couldn't make a guess about that picture."
    lines = [_guess_line(guess) for guess in ranked]
    if _clamp(ranked[0].score) < unsure_below:
        lines.insert(0, "I'm not sure, but it might be:")
    return "\n".join(lines)


def format_album_guesses(results: Sequence[Sequence[GuessLike] | str]) -> str:
    """One numbered section per picture of an album: its guesses, or why there are none.

    An album holds at most 10 items, which fit one message; sections that
    would not fit are cut and counted ("… and 2 more pictures").
    """
    sections = [
        f"{number}. {result if isinstance(result, str) else format_guesses(result)}"
        for number, result in enumerate(results, start=1)
    ]
    text = "\n\n".join(sections)
    while len(text) > MESSAGE_LIMIT and len(sections) > 1:
        sections.pop()
        text = "\n\n".join(sections) + f"\n\n… and {len(results) - len(sections)} more pictures"
    return text[:MESSAGE_LIMIT]


def format_guess_line(name: str, guesses: Sequence[GuessLike]) -> str:
    """One picture's guesses on one line, for a reply that answers several pictures:
    ``Ada: 🦒 giraffe 81% · 🦙 llama 9% · 🐎 horse 4%``."""
    ranked = sorted(guesses, key=lambda g: _clamp(g.score), reverse=True)[:TOP_GUESSES]
    if not ranked:
        return f"{name}: no guess"
    return f"{name}: " + " · ".join(f"{get_emoji(g.label)} {g.label} {round(_clamp(g.score) * 100)}%" for g in ranked)


def format_bar(score: float, cells: int = BAR_CELLS) -> str:
    """A bar of ``cells`` full blocks for 1.0, drawn to the nearest eighth."""
    eighths = round(_clamp(score) * cells * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest - 1] if rest else "")


def get_emoji(label: str) -> str:
    """The emoji for a known animal label ("Cats", "a cat" → 🐈), else 🖍️."""
    key = label.strip().casefold()
    for article in ("a ", "an ", "the "):
        if key.startswith(article):
            key = key[len(article) :].strip()
            break
    for candidate in (key, key.removesuffix("s"), key.removesuffix("es")):
        if candidate in LABEL_EMOJI:
            return LABEL_EMOJI[candidate]
    return GENERIC_EMOJI


def build_help_text(commands: Iterable[tuple[str, str]] = COMMANDS) -> str:
    """What the bot does and every command, one per line."""
    lines = [START_TEXT_BODY, "", "Commands:"]
    lines += [f"/{command} – {description}" for command, description in commands]
    lines += [
        "",
        "Change what I choose between with /labels, e.g.",
        "/labels cat, dog, bird",
        "/labels add zebra",
        "/labels remove bird",
        "/labels reset",
    ]
    return "\n".join(lines)


def build_start_text(first_name: str | None = None) -> str:
    """A greeting, then what to send; ``first_name`` may be missing."""
    name = " ".join((first_name or "").split())[:64]
    greeting = f"Hi {name}! 👋" if name else "Hi! 👋"
    return f"{greeting}\n{START_TEXT_BODY}\nSee /help for everything I can do."


def build_group_greeting(bot_username: str | None) -> str:
    """What the bot says when it is added to a group."""
    me = f"@{bot_username}" if bot_username else "me"
    return (
        f"Hi everyone! 👋 I guess what drawings show: mention {me} in a picture's caption "
        "or reply to a picture with /guess. /game starts a drawing game, /help tells you more."
    )


HELP_TEXT = build_help_text()


def format_labels(labels: Sequence[str], *, is_default: bool = False, prefix: str = "") -> str:
    """The label list with how to change it; cut with "… and N more" to fit a message."""
    source = "the default ones" if is_default else "set for this chat"
    head = f"{prefix}I choose between {len(labels)} labels ({source}):"
    tail = "Change them with /labels cat, dog, … or /labels add, remove, reset."
    room = MESSAGE_LIMIT - text_length(head) - text_length(tail) - 4
    body = ", ".join(labels)
    if text_length(body) > room:
        shown: list[str] = []
        used = 0
        for label in labels:
            more = f" … and {len(labels) - len(shown)} more"
            if used + text_length(label) + 2 + len(more) > room:
                break
            shown.append(label)
            used += text_length(label) + 2
        body = ", ".join(shown) + f" … and {len(labels) - len(shown)} more"
    return f"{head}\n{body}\n\n{tail}"


def format_labels_changed(labels: Sequence[str], *, is_default: bool = False) -> str:
    """Confirmation after /labels changed the list (``is_default``: back to the defaults)."""
    return format_labels(labels, is_default=is_default, prefix="Done. ")


def format_taught(label: str) -> str:
    """After a correction."""
    return f"Got it: that's {_a(label)}. I'll remember."


def format_new_label_offer(label: str) -> str:
    """A typed label the chat doesn't have, to an admin."""
    return f"“{label}” isn't one of this chat's labels yet. Add it, and remember this picture as {_a(label)}?"


def format_new_label_refused(label: str) -> str:
    """A typed label the chat doesn't have, from someone who may not add labels."""
    return f"“{label}” isn't one of this chat's labels: an admin can add it with /labels add {label}"


def format_taught_counts(counts: dict[str, int]) -> str:
    """``fox: 3 taught drawings`` per label, for /labels."""
    lines = [f"{label}: {n} taught drawing{'s' if n != 1 else ''}" for label, n in sorted(counts.items())]
    return "Taught by corrections:\n" + "\n".join(lines) + "\n(/labels untrain fox forgets a label's drawings)"


def format_untrained(counts: dict[str, int]) -> str:
    """After /labels untrain."""
    parts = [f"{label}: {n} taught drawing{'s' if n != 1 else ''} forgotten" for label, n in counts.items()]
    return "\n".join(parts) if parts else "Nothing was taught for that."


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


def _guess_line(guess: GuessLike) -> str:
    score = _clamp(guess.score)
    percent = round(score * 100)
    return f"{get_emoji(guess.label)} {guess.label} {percent:>3}% {format_bar(score)}".rstrip()


def _clamp(score: float) -> float:
    try:
        value = float(score)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, value))


# -- the drawing game ----------------------------------------------------------------

GAME_PRIVATE_TEXT = (
    "The drawing game is played in groups: add me to a group and send /game there. "
    "Here, just send me a drawing and I'll guess what it is."
)
GAME_RUNNING_TEXT = "A game is already running here. /stop ends it."
NO_GAME_TEXT = "No game is running here. Start one with /game."
NO_SCORES_TEXT = "No scores here yet. Start a drawing game with /game!"
ANONYMOUS_ADMIN_NAME = "Anonymous admin"  # a group admin posting as the group
MEDALS = ("🥇", "🥈", "🥉")
STANDINGS_SHOWN = 20


def format_stop_refused(starter_name: str) -> str:
    return f"Only {starter_name or 'the player who started it'} or a group admin can stop this game."


def format_game_event(event: "g.Event") -> str | None:
    """The chat's text for one game event; None for events the chat doesn't hear about."""
    match event:
        case g.GameStarted(total_rounds=total, seconds=seconds, asked_rounds=asked):
            capped = f" (only {total} labels to draw, so {total})" if asked > total else ""
            rounds = "1 round" if total == 1 else f"{total} rounds"
            return (
                f"🎨 Drawing game! {rounds}{capped} of {_secs(seconds)}. Everyone can play: "
                "draw what I name and send it here as a picture. First drawing I recognise wins "
                "the round. /stop ends the game."
            )
        case g.RoundStarted(number=number, total_rounds=total, target=target, seconds=seconds):
            return f"Round {number}/{total}: draw {_a(target)} {get_emoji(target)}! You have {_secs(seconds)}."
        case g.TimeWarning(target=target, left_s=left):
            return f"⏳ {_secs(left)} left to draw {_a(target)}!"
        case g.Judged(won=False, seen=seen, target=target, target_score=score):
            return f"I see {_a(seen)} {get_emoji(seen)}… keep trying! ({target}: {round(_clamp(score) * 100)}%)"
        case g.RoundWon(name=name, target=target, win_s=win_s, points=points):
            plural = "point" if points == 1 else "points"
            return f"🎉 {name} drew {_a(target)} {get_emoji(target)} in {_secs(win_s)}! ({points} {plural})"
        case g.RoundTimedOut(target=target, winner=None):
            return f"⏰ Time's up! Nobody drew {_a(target)} I could recognise this round."
        case g.RoundTimedOut(target=target, winner=g.Best(name=name, score=score)):
            return (
                f"⏰ Time's up! Nobody drew {_a(target)} I was sure about, but {name} came "
                f"closest ({round(_clamp(score) * 100)}%): the round goes to {name}."
            )
        case g.BackOnline():
            return "I'm back after a restart."
        case g.RoundResumed(number=number, total_rounds=total, target=target, left_s=left):
            return f"Round {number}/{total} goes on: draw {_a(target)} {get_emoji(target)}! {_secs(left)} left."
        case g.GameOver(reason=reason, standings=players, stopped_by=by):
            head = {
                "finished": "🏁 Game over!",
                "stopped": f"🛑 Game stopped{f' by {by}' if by else ''}.",
                "abandoned": "I was away too long for this game to go on, so it's over.",
            }.get(reason, "The game is over.")
            return f"{head}\n{format_standings(players)}\nSee /score for the all-time scores."
    return None


def format_verdict_line(event: "g.Judged") -> str:
    """A "keep trying" verdict as one line among others: ``Ada: I see a llama 🦙 (giraffe: 12%)``."""
    score = round(_clamp(event.target_score) * 100)
    return f"{event.name}: I see {_a(event.seen)} {get_emoji(event.seen)} ({event.target}: {score}%)"


def format_standings(players: Sequence["g.Player"], limit: int = STANDINGS_SHOWN) -> str:
    """One line per player, best first: medal or rank, name, points, drawing time."""
    if not any(player.points for player in players):
        return "Nobody scored this time."
    lines = [_player_line(i, player) for i, player in enumerate(players[:limit])]
    if len(players) > limit:
        lines.append(f"… and {len(players) - limit} more")
    return "\n".join(lines)


def format_leaderboard(players: Sequence["g.Player"]) -> str:
    """/score: the chat's all-time best players."""
    if not players:
        return NO_SCORES_TEXT
    lines = ["🏆 All-time scores in this chat:"]
    lines += [_player_line(i, player) for i, player in enumerate(players)]
    return "\n".join(lines)


def _player_line(index: int, player: "g.Player") -> str:
    rank = MEDALS[index] if index < len(MEDALS) and player.points else f"{index + 1}."
    plural = "point" if player.points == 1 else "points"
    timing = f" ({_secs(player.time_s)})" if player.points else ""
    return f"{rank} {clean_text(player.name) or 'Player'}: {player.points} {plural}{timing}"


def _secs(seconds: float) -> str:
    whole = max(0, round(seconds))
    if whole < 120:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _a(label: str) -> str:
    """ "a giraffe", "an owl"; labels that already have an article or are plural stay as typed."""
    words = label.split()
    if not words or words[0].casefold() in ("a", "an", "the", "some") or label[:1].isupper():
        return label
    return ("an " if label[0].casefold() in "aeiou" else "a ") + label


# The drawing canvas (a Mini App: bot.webapp).
DRAW_BUTTON = "🎨 Draw"
DRAW_HERE_BUTTON = "🎨 Draw here"
DRAW_TEXT = "Draw something on the canvas: I guess while you draw, and Send posts it here."
DRAW_GROUP_TEXT = "The canvas opens in a private chat with me; in a game, each round has a 🎨 Draw here link."
DRAW_OFF_TEXT = "The drawing canvas isn't set up on this bot. Send me a photo of a drawing instead."


def format_canvas_caption(name: str | None, guesses: Sequence[GuessLike] | None = None) -> str:
    """The caption of a drawing the bot posts from the canvas: who drew it, and the guesses if any."""
    head = f"🎨 {name} drew this on the canvas." if name else "🎨 Drawn on the canvas."
    text = head if guesses is None else f"{head}\n{format_guesses(guesses)}"
    return fit_text(text, CAPTION_LIMIT)
