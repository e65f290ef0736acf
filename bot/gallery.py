"""The picture posted at the end of a game: each round's drawing with what I saw in it, and the standings.

Pure rendering with Pillow: plain data in (``Tile`` s, the standings, a
``Translator`` for the chat's language), JPEG bytes out; no Telegram, no store,
no clock. ``bot.game_gallery`` gathers the drawings and calls it off the event
loop.

The picture is 1280 px wide, Telegram's largest photo side, so it is shown
unscaled; the number of columns grows with the rounds so that the height stays
within 1280 px too (``plan_layout``). Text is DejaVu Sans, shipped in
``bot/fonts`` (licence beside it: the Bitstream Vera and Arev licences, which
allow redistribution). It covers Latin, Greek and Cyrillic; characters it has
no glyph for (most emoji, CJK) are left out of names rather than drawn as empty
boxes, and the picture itself uses no emoji: medals are drawn discs.

A drawing that won its round has a green frame; the best attempt of a round
nobody won has a grey one; a round nobody drew in shows an empty grey square.
"""

import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from classifier.errors import UserError
from classifier.images import decode_image

from .game import Game, Player
from .i18n import Translator
from .replies import format_more, format_points, format_seconds

FONT_DIR = Path(__file__).parent / "fonts"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"

WIDTH = 1280  # Telegram's largest photo side: shown as drawn
MAX_HEIGHT = 1280  # taller pictures are shrunk by Telegram; more columns keep within it
MARGIN = 32
GAP = 20
MAX_TILE = 360  # a drawing's square, at most (few rounds)
MAX_COLUMNS = 8  # 20 rounds (the most a game has) fit in 3 rows of 8
HEADER_H = 96
TITLE_SIZE = 44
TILE_TEXT_SIZE = 24
TILE_LINE_H = 30
TILE_TEXT_H = 6 + 4 * TILE_LINE_H  # round and target; player; what I saw; the target's probability when not won
STANDINGS_SIZE = 28
STANDINGS_ROW_H = 44
STANDINGS_TITLE_H = 56
STANDINGS_SHOWN = 10  # the rest are "… and N more"
STANDINGS_COLUMNS_FROM = 6  # players in two columns from this many
JPEG_QUALITY = 88  # with 4:4:4 chroma, text edges stay clean; Telegram re-encodes photos as JPEG anyway

BACKGROUND = (246, 242, 234)
INK = (34, 34, 34)
MUTED = (110, 110, 110)
WON = (46, 157, 79)
NOT_WON = (160, 160, 160)
EMPTY = (225, 222, 215)
MEDAL_COLOURS = ((230, 180, 30), (170, 170, 175), (190, 120, 60))
FRAME = 4
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})  # controls, joiners, surrogates, private, unassigned
_NOT_A_CHARACTER = "\uffff"  # drawn with the font's "missing glyph" box


@dataclass(frozen=True)
class Tile:
    """One round as the gallery shows it.

    ``picture``: the encoded drawing (None: nobody drew in that round). ``seen``
    and ``seen_score``: the model's top guess for it; ``target_score``: its
    probability for the target. ``won``: the round went to this drawing.
    """

    number: int
    target: str
    picture: bytes | None = None
    name: str | None = None
    seen: str | None = None
    seen_score: float = 0.0
    target_score: float = 0.0
    won: bool = False


Box = tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(frozen=True)
class Layout:
    """Where everything goes: the picture's size, each round's drawing square, the standings' area."""

    size: tuple[int, int]
    columns: int
    tiles: tuple[Box, ...]
    standings: Box


def plan_layout(rounds: int, players: int) -> Layout:
    """The largest drawings that keep the picture within ``MAX_HEIGHT`` (of those, the fewest rows)."""
    rounds = max(1, rounds)
    standings_h = _standings_height(players)
    plans = []
    for columns in range(1, MAX_COLUMNS + 1):
        side = min(MAX_TILE, (WIDTH - 2 * MARGIN - (columns - 1) * GAP) // columns)
        rows = math.ceil(rounds / columns)
        height = HEADER_H + rows * (side + TILE_TEXT_H + GAP) + standings_h
        if height <= MAX_HEIGHT or columns == MAX_COLUMNS:
            plans.append((side, -height, -columns))
    side, height, columns = max(plans)
    height, columns = -height, -columns
    used = min(columns, rounds)
    left = (WIDTH - used * side - (used - 1) * GAP) // 2
    tiles = []
    for index in range(rounds):
        row, column = divmod(index, columns)
        x = left + column * (side + GAP)
        y = HEADER_H + row * (side + TILE_TEXT_H + GAP)
        tiles.append((x, y, x + side, y + side))
    top = height - standings_h
    return Layout((WIDTH, height), columns, tuple(tiles), (MARGIN, top, WIDTH - MARGIN, height - MARGIN))


def render_gallery(t: Translator, title: str, tiles: Sequence[Tile], standings: Sequence[Player]) -> bytes:
    """The gallery as JPEG bytes: ``title`` on top, one tile per round, the standings below, in ``t``'s language."""
    layout = plan_layout(len(tiles), len(standings))
    image = Image.new("RGB", layout.size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font = _font(BOLD_FONT, TITLE_SIZE)
    draw.text((MARGIN, HEADER_H // 2), _fit(drawable(title), title_font, WIDTH - 2 * MARGIN), INK, title_font, "lm")
    for tile, box in zip(tiles, layout.tiles):
        _draw_tile(image, draw, t, tile, box)
    _draw_standings(draw, t, standings, layout.standings)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class HeldDrawing:
    """A round's drawing kept until the gallery is posted: a member's photo by its Telegram ``file_id``
    (fetched again at the game's end), or a canvas drawing's bytes (``data``), with its verdict."""

    round: int
    user_id: int
    name: str
    seen: str
    seen_score: float
    target_score: float
    won: bool
    file_id: str | None = None
    data: bytes | None = None


def better(new: HeldDrawing, held: HeldDrawing | None) -> bool:
    """Whether ``new`` replaces ``held`` as its round's drawing: the winning drawing stays; before a
    win, the one that gave the target the highest probability first (as ``bot.game`` picks a round's best)."""
    if held is None:
        return True
    if held.won:
        return False
    return new.won or new.target_score > held.target_score


def tiles_of(game: Game, drawings: dict[int, HeldDrawing], pictures: dict[int, bytes]) -> list[Tile]:
    """One ``Tile`` per round played: the drawing kept for it (``drawings``, by round number) and its bytes
    (``pictures``; a drawing that could not be fetched shows as an empty square, with its verdict)."""
    tiles = []
    for round_ in game.rounds:
        held = drawings.get(round_.number)
        if held is None:
            tiles.append(Tile(round_.number, round_.target))
            continue
        tiles.append(
            Tile(
                round_.number,
                round_.target,
                pictures.get(round_.number),
                held.name,
                held.seen,
                held.seen_score,
                held.target_score,
                won=round_.winner_id is not None and round_.winner_id == held.user_id,
            )
        )
    return tiles


def drawable(text: str, font_path: Path = REGULAR_FONT) -> str:
    """``text`` without the characters the font has no glyph for (no empty boxes), nor invisible ones."""
    kept = "".join(char for char in text if _has_glyph(font_path, char))
    return " ".join(kept.split())


# -- drawing -----------------------------------------------------------------------------------------


def _draw_tile(image: Image.Image, draw: ImageDraw.ImageDraw, t: Translator, tile: Tile, box: Box) -> None:
    left, top, right, bottom = box
    side = right - left
    picture = _picture(tile.picture, side - 2 * FRAME)
    if picture is None:
        draw.rectangle(box, fill=EMPTY)
    else:
        draw.rectangle(box, fill=WON if tile.won else NOT_WON)
        image.paste(picture, (left + FRAME, top + FRAME))
    regular, bold = _font(REGULAR_FONT, TILE_TEXT_SIZE), _font(BOLD_FONT, TILE_TEXT_SIZE)
    lines: list[tuple[str, ImageFont.FreeTypeFont, tuple[int, int, int]]] = [
        (f"{tile.number}. {t.label(tile.target)}", bold, INK)
    ]
    if tile.name is None:
        lines.append((t.gettext("Nobody drew this one"), regular, MUTED))
    else:
        lines.append((tile.name, regular, INK))
        seen = f"{t.label(tile.seen or '')} {_percent(tile.seen_score)}%"
        if tile.won:
            lines.append(("✓ " + seen, bold, WON))
        else:
            lines.append((seen, regular, MUTED))
            lines.append((f"{t.label(tile.target)}: {_percent(tile.target_score)}%", regular, MUTED))
    y = bottom + 6
    for text, font, colour in lines:
        draw.text((left, y), _fit(drawable(text), font, side), colour, font)
        y += TILE_LINE_H


def _draw_standings(draw: ImageDraw.ImageDraw, t: Translator, players: Sequence[Player], box: Box) -> None:
    left, top, right, _ = box
    font, bold = _font(REGULAR_FONT, STANDINGS_SIZE), _font(BOLD_FONT, STANDINGS_SIZE)
    if not any(player.points for player in players):
        draw.text(
            (left, top + STANDINGS_TITLE_H // 2), drawable(t.gettext("Nobody scored this time.")), INK, bold, "lm"
        )
        return
    shown = players[:STANDINGS_SHOWN]
    columns = 2 if len(shown) >= STANDINGS_COLUMNS_FROM else 1
    per_column = math.ceil(len(shown) / columns)
    width = (right - left - (columns - 1) * GAP * 2) // columns
    for index, player in enumerate(shown):
        column, row = divmod(index, per_column)
        x, y = left + column * (width + GAP * 2), top + row * STANDINGS_ROW_H + STANDINGS_ROW_H // 2
        _draw_rank(draw, index, player, (x, y), bold)
        score = format_points(t, player.points)
        if player.points:
            score += f" · {format_seconds(t, player.time_s)}"
        score = drawable(score)
        score_w = round(draw.textlength(score, font=font))
        draw.text((x + width, y), score, MUTED, font, "rm")
        name_w = width - 52 - score_w - GAP
        draw.text((x + 52, y), _fit(drawable(player.name), bold, name_w), INK, bold, "lm")
    if len(players) > len(shown):
        y = top + per_column * STANDINGS_ROW_H + STANDINGS_ROW_H // 2
        draw.text((left, y), drawable(format_more(t, len(players) - len(shown))), MUTED, font, "lm")


def _draw_rank(
    draw: ImageDraw.ImageDraw, index: int, player: Player, centre: tuple[int, int], font: ImageFont.FreeTypeFont
) -> None:
    """A medal disc with the rank for the first three who scored, the rank alone for the others."""
    x, y = centre
    if index < len(MEDAL_COLOURS) and player.points:
        radius = 18
        draw.ellipse((x, y - radius, x + 2 * radius, y + radius), fill=MEDAL_COLOURS[index])
        draw.text((x + radius, y), str(index + 1), (255, 255, 255), font, "mm")
    else:
        draw.text((x + 18, y), str(index + 1), MUTED, font, "mm")


def _picture(data: bytes | None, side: int) -> Image.Image | None:
    """The drawing upright on white, in a ``side`` square; None when there is none or it can't be read."""
    if data is None:
        return None
    try:
        square = decode_image(data, draft_size=side, fit_size=side)
    except UserError:  # it was readable when judged; a file fetched again may not be
        return None
    return square.resize((side, side), Image.Resampling.LANCZOS)


def _standings_height(players: int) -> int:
    shown = min(players, STANDINGS_SHOWN)
    rows = math.ceil(shown / 2) if shown >= STANDINGS_COLUMNS_FROM else max(1, shown)
    more = 1 if players > shown else 0
    return (rows + more) * STANDINGS_ROW_H + MARGIN + GAP


def _fit(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``text`` cut to ``width`` pixels, ending in "…" when cut."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _percent(score: float) -> int:
    return round(min(1.0, max(0.0, score)) * 100)


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@cache
def _has_glyph(path: Path, char: str) -> bool:
    """Whether the font draws ``char`` with a glyph of its own (not the missing-glyph box)."""
    if char.isspace():
        return True
    if unicodedata.category(char) in _DROPPED_CATEGORIES or unicodedata.name(char, "").startswith("VARIATION"):
        return False
    font = _font(path, TILE_TEXT_SIZE)
    return _mask(font, char) != _mask(font, _NOT_A_CHARACTER)


def _mask(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)
