"""The gallery posted at a game's end: layout, each tile's drawing, the font's coverage, speed and size.

The end-to-end game that posts it is in tests/test_gallery_e2e.py.
"""

import io
import itertools
import random
import statistics
import time
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw

from bot import gallery
from bot.gallery import BOLD_FONT, REGULAR_FONT, HeldDrawing, Tile, better, drawable, plan_layout, render_gallery
from bot.game import Game, GameOver, Judged, Player, Round
from bot.game_gallery import KeptDrawings
from bot.i18n import ENGLISH, LANGUAGES, get_translator
from bot.replies import format_game_over_head, format_more, format_points, format_seconds
from classifier.prompts import DEFAULT_LABELS

OUTPUT = Path(__file__).parent / "output"
NAMES = ["Ada", "Борис", "José María", "Анастасия-Александра", "Zoë 🦄", "Иван", "Lucía", "Ñoño", "Ёжик", "Göran"]


def pattern(seed: int, size: int = 64) -> bytes:
    """A drawing no other seed makes: four quadrants of distinct colours (PNG)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    half = size // 2
    for x in (0, half):
        for y in (0, half):
            draw.rectangle((x, y, x + half - 1, y + half - 1), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def phone_photo(seed: int) -> bytes:
    """What a member sends: a 1280×960 JPEG photo of strokes on paper, with sensor noise (compresses poorly)."""
    rng = random.Random(seed)
    paper = Image.blend(Image.effect_noise((1280, 960), 40).convert("RGB"), Image.new("RGB", (1280, 960), "wheat"), 0.6)
    draw = ImageDraw.Draw(paper)
    for _ in range(25):
        points = [(rng.randrange(1280), rng.randrange(960)) for _ in range(4)]
        draw.line(points, fill=tuple(rng.randrange(200) for _ in range(3)), width=12)
    buffer = io.BytesIO()
    paper.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def small(image: Image.Image) -> bytes:
    """The picture averaged down to 4×4 RGB pixels."""
    return image.convert("RGB").resize((4, 4), Image.Resampling.BOX).tobytes()


def distance(a: bytes, b: bytes) -> float:
    return statistics.fmean(abs(x - y) for x, y in zip(a, b))


def tile_pictures(data: bytes, layout: gallery.Layout) -> list[Image.Image]:
    """Each tile's drawing area, inside its frame."""
    image = Image.open(io.BytesIO(data))
    inset = gallery.FRAME + 2
    return [
        image.crop((left + inset, top + inset, right - inset, bottom - inset))
        for left, top, right, bottom in layout.tiles
    ]


def held_by_tile(pictures: list[Image.Image], drawings: list[bytes | None]) -> list[int | None]:
    """For each tile, the index of the input drawing it shows (nearest when downscaled), None for an empty tile."""
    inputs = [None if d is None else small(Image.open(io.BytesIO(d))) for d in drawings]
    found = []
    for picture in pictures:
        seen = small(picture)
        scores = [(distance(seen, known), i) for i, known in enumerate(inputs) if known is not None]
        best, index = min(scores)
        found.append(index if best < 12 else None)
    return found


def ten_tiles(pictures: list[bytes | None]) -> list[Tile]:
    tiles = []
    for i, picture in enumerate(pictures):
        label = DEFAULT_LABELS[i]
        if picture is None:
            tiles.append(Tile(i + 1, label))
        elif i % 3 == 2:  # nobody won: the best try
            tiles.append(Tile(i + 1, label, picture, NAMES[i], "llama", 0.55, 0.12, won=False))
        else:
            tiles.append(Tile(i + 1, label, picture, NAMES[i], label, 0.81, 0.81, won=True))
    return tiles


STANDINGS = [Player(i, name, max(0, 5 - i), 20.0 + 7 * i) for i, name in enumerate(NAMES)]


# -- layout ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("players", [0, 1, 5, 10, 40])
def test_every_game_fits_one_photo_telegram_shows_unscaled(players):
    for rounds in range(1, 21):
        layout = plan_layout(rounds, players)
        width, height = layout.size
        assert width == 1280 and height <= 1280, (rounds, players, layout.size)
        assert len(layout.tiles) == rounds
        for left, top, right, bottom in layout.tiles:
            assert 0 <= left < right <= width and gallery.HEADER_H <= top < bottom <= layout.standings[1]
            assert right - left == bottom - top >= 130, "a drawing stays big enough to see"
        pairs = itertools.combinations(layout.tiles, 2)
        assert all(a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1] for a, b in pairs), "no overlap"
    assert plan_layout(10, 8).columns == 5 and plan_layout(1, 2).tiles[0][2] - plan_layout(1, 2).tiles[0][0] == 360
    assert plan_layout(3, 2).columns == 3, "drawings of the same size: one row rather than two"


# -- each tile holds its drawing ---------------------------------------------------------------------


def test_each_tile_shows_its_own_drawing_and_an_empty_round_none():
    drawings: list[bytes | None] = [pattern(i) for i in range(10)]
    drawings[7] = None  # nobody drew in round 8
    data = render_gallery(ENGLISH, "🏁 Game over!", ten_tiles(drawings), STANDINGS)
    layout = plan_layout(10, len(STANDINGS))
    assert Image.open(io.BytesIO(data)).size == layout.size
    assert held_by_tile(tile_pictures(data, layout), drawings) == [0, 1, 2, 3, 4, 5, 6, None, 8, 9]


def test_a_drawing_that_cannot_be_read_again_leaves_its_tile_empty():
    drawings: list[bytes | None] = [pattern(1), b"not a picture", pattern(3)]
    tiles = [Tile(i + 1, "cat", d, "Ada", "cat", 0.9, 0.9, won=True) for i, d in enumerate(drawings)]
    data = render_gallery(ENGLISH, "Game over", tiles, STANDINGS[:2])
    assert held_by_tile(tile_pictures(data, plan_layout(3, 2)), [drawings[0], None, drawings[2]]) == [0, None, 2]


# -- speed and size ----------------------------------------------------------------------------------


def test_ten_rounds_of_phone_photos_render_in_under_a_second_and_a_megabyte():
    photos = [phone_photo(i) for i in range(10)]
    tiles = ten_tiles(photos)
    render_gallery(ENGLISH, "warm-up", tiles, STANDINGS)  # fonts load once
    times, data = [], b""
    for _ in range(3):
        start = time.perf_counter()
        data = render_gallery(ENGLISH, format_game_over_head(ENGLISH, GameOver("finished", ())), tiles, STANDINGS)
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0, times
    assert len(data) < 1_000_000, len(data)
    OUTPUT.mkdir(exist_ok=True)
    Image.open(io.BytesIO(data)).save(OUTPUT / "gallery.png")  # the sample gallery, for a person to look at
    print(f"gallery: 10 rounds in {min(times) * 1000:.0f} ms, {len(data) / 1000:.0f} kB JPEG, 1280×{layout_h()} px")


def layout_h() -> int:
    return plan_layout(10, len(STANDINGS)).size[1]


# -- the font ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def covered() -> dict[Path, set[int]]:
    return {path: set(TTFont(path).getBestCmap()) for path in (REGULAR_FONT, BOLD_FONT)}


def gallery_texts(language: str) -> list[str]:
    """Everything the gallery writes in ``language``, but players' names."""
    t = get_translator(language)
    texts = [t.gettext("Nobody drew this one"), t.gettext("Nobody scored this time."), format_more(t, 3)]
    texts += [
        format_game_over_head(t, GameOver(reason, (), by))
        for reason, by in (("finished", None), ("stopped", "Ёжик"), ("abandoned", None))
    ]
    texts += [format_points(t, n) + " · " + format_seconds(t, s) for n, s in ((1, 5), (2, 130), (5, 3600))]
    texts += [f"✓ {t.label(label)} 81%" for label in DEFAULT_LABELS] + [f"{t.label('cat')}: 12%", "…"]
    return texts


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_font_draws_every_letter_of_the_gallery_and_of_russian_and_spanish_names(covered, language):
    names = ["Анастасия", "Ёжик Щукин-Эйзенштейн", "Йоханнес", "José María Núñez", "Ñandú Güemes", "Çağla", "Zoë"]
    for path in (REGULAR_FONT, BOLD_FONT):
        for text in gallery_texts(language) + names:
            shown = drawable(text)
            missing = {char for char in shown if not char.isspace() and ord(char) not in covered[path]}
            assert not missing, (path.name, text, missing)
            if language != "en" or text in names:
                letters = [char for char in text if char.isalpha()]
                assert all(char in shown for char in letters), ("letters dropped", text, shown)


def test_characters_the_font_lacks_are_left_out_not_drawn_as_boxes(covered):
    assert drawable("Zoë 🦄 Ли 李 \u200d️") == "Zoë Ли"
    assert drawable("🏁 ¡Fin del juego!") == "¡Fin del juego!"
    sample = "aZñЖжёЁ€→✓…·—🦒🥇🏆李あ\u200d"
    for char in sample:
        assert (char in drawable(char)) == (ord(char) in covered[REGULAR_FONT] and char != "\u200d"), char


# -- which drawing each round keeps ------------------------------------------------------------------


def held(number: int, user_id: int, score: float, won: bool = False, file_id: str = "f") -> HeldDrawing:
    return HeldDrawing(number, user_id, f"P{user_id}", "cat", score, score, won, file_id=file_id)


def test_a_round_keeps_its_winner_else_its_first_best_try():
    assert better(held(1, 1, 0.2), None)
    assert better(held(1, 2, 0.3), held(1, 1, 0.2))
    assert not better(held(1, 2, 0.3), held(1, 1, 0.3)), "the first to reach a score keeps it, as in bot.game"
    assert better(held(1, 2, 0.1, won=True), held(1, 1, 0.45)), "a win beats a closer miss"
    assert not better(held(1, 2, 0.9, won=True), held(1, 1, 0.3, won=True)), "the first win stays"


def test_kept_drawings_are_dropped_when_taken_and_on_forget():
    game = Game(-1, 1, "Ada", 2, 30, ("cat", "dog", "owl", "fox"), 0.0, id=7)
    other = Game(-2, 1, "Ada", 2, 30, ("cat", "dog", "owl", "fox"), 0.0, id=8)
    kept = KeptDrawings()
    judged = Judged(1, 5, "Bob", 1.0, "cat", "dog", 0.2, won=False)
    kept.offer(game, judged, 0.6, "file-1")
    kept.offer(game, Judged(1, 6, "Cy", 2.0, "cat", "cat", 0.9, won=True), 0.9, b"canvas bytes")
    kept.offer(game, Judged(1, 5, "Bob", 3.0, "cat", "cat", 0.95, won=True), 0.95, "file-2")  # after the win
    kept.offer(other, judged, 0.6, "file-3")
    assert sorted(kept.games()) == [7, 8]
    kept.move_chat(-2, -3)  # the group became a supergroup: its game's drawings follow
    kept.forget_chat(-2)
    assert sorted(kept.games()) == [7, 8]
    kept.forget_chat(-3)
    assert kept.games() == [7]
    rounds = kept.take(7)
    assert list(rounds) == [1] and rounds[1].data == b"canvas bytes" and rounds[1].file_id is None
    assert rounds[1].won and rounds[1].name == "Cy"
    assert kept.games() == [] and kept.take(7) == {}


def test_tiles_follow_the_rounds_played():
    game = Game(-1, 1, "Ada", 3, 30, ("cat", "dog", "owl", "fox"), 0.0, id=7)
    game.rounds = [
        Round(1, "cat", 0, 30, outcome="drawn", winner_id=5, winner_name="Bob"),
        Round(2, "dog", 30, 60, outcome="nobody"),
        Round(3, "owl", 60, 90, outcome="stopped"),
    ]
    drawings = {1: held(1, 5, 0.9, won=True), 2: held(2, 6, 0.2)}
    tiles = gallery.tiles_of(game, drawings, {1: b"one"})
    assert [(t.number, t.target, t.name, t.won, t.picture) for t in tiles] == [
        (1, "cat", "P5", True, b"one"),
        (2, "dog", "P6", False, None),  # not fetched again: an empty square, with its verdict
        (3, "owl", None, False, None),
    ]
