"""The cache model (Tip-Adapter) against a straight NumPy reference, and the engine ranking with examples."""

import asyncio
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers.engine import ANIMALS, GatedClassifier, hold_first_batch
from helpers.pictures import png_bytes
from helpers.waiting import until
from PIL import Image

from bot.cli import main
from classifier.engine import Engine
from classifier.few_shot import (
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    SAME_PICTURE,
    Examples,
    blend_logits,
    cache_logits,
    embedding_bytes,
    embedding_from_bytes,
    leave_one_out_top1,
    rank_with_examples,
    tune_blend,
)
from classifier.types import Classified
from classifier.zero_shot import rank


def unit(rng, *shape) -> np.ndarray:
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def reference_logits(f, w, scale, k, labels_of_keys, n_labels, alpha, beta) -> np.ndarray:
    """``scale·f·Wᵀ + α·exp(−β(1 − f·Kᵀ))·L``, written out with NumPy."""
    one_hot = np.eye(n_labels, dtype=np.float64)[labels_of_keys]
    f, w, k = f.astype(np.float64), w.astype(np.float64), k.astype(np.float64)
    return scale * f @ w.T + alpha * np.exp(-beta * (1.0 - f @ k.T)) @ one_hot


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 5.5), (3.0, 1.0), (10.0, 12.0)])
def test_blend_matches_the_numpy_reference(alpha, beta):
    rng = np.random.default_rng(7)
    f, w, k = unit(rng, 5, 16), unit(rng, 4, 16), unit(rng, 9, 16)
    taught = rng.integers(0, 4, 9)
    values = torch.from_numpy(np.eye(4, dtype=np.float32)[taught])
    want = reference_logits(f, w, 100.0, k, taught, 4, alpha, beta)
    keys = torch.from_numpy(k)
    cache = cache_logits(torch.from_numpy(f), keys, values, alpha, beta).numpy()
    assert np.allclose(cache, want - 100.0 * f.astype(np.float64) @ w.T.astype(np.float64), atol=1e-4)
    # random unit vectors in 16 dimensions are never within SAME_PICTURE of each other
    assert (f @ k.T).max() < SAME_PICTURE
    got = blend_logits(torch.from_numpy(f), torch.from_numpy(w), 100.0, keys, values, alpha, beta).numpy()
    assert np.allclose(got, want, atol=1e-3)


def test_same_picture_gets_its_taught_label_first():
    rng = np.random.default_rng(3)
    w = torch.from_numpy(unit(rng, 3, 8))
    zero_shot_best = int((w @ w[0]).argmax())  # picture = label 0's text vector: zero-shot says label 0
    assert zero_shot_best == 0
    near = F.normalize(w[0] + 0.05 * torch.from_numpy(unit(rng, 8)), dim=0)
    assert float(near @ w[0]) >= SAME_PICTURE
    examples = Examples(w[0:1].clone(), ["b"], alpha=0.0)  # taught: this picture is "b"; α = 0: no blend
    labels = ("a", "b", "c")
    for seen in (w[0], near):
        guesses = rank_with_examples(seen[None], w, labels, 100.0, examples)[0]
        assert guesses[0].label == "b"
    other = torch.from_numpy(unit(rng, 8))
    assert float(other @ w[0]) < SAME_PICTURE
    plain = rank(other[None], w, labels, 100.0)[0]
    assert [g.label for g in rank_with_examples(other[None], w, labels, 100.0, examples)[0]] == [g.label for g in plain]


def test_examples_of_labels_not_in_the_list_are_left_out():
    rng = np.random.default_rng(1)
    keys = torch.from_numpy(unit(rng, 3, 8))
    examples = Examples(keys, ["fox", "owl", "fox"])
    k, v = examples.for_labels(("cat", "fox"))
    assert k.shape == (2, 8) and v.tolist() == [[0.0, 1.0], [0.0, 1.0]]
    assert examples.for_labels(("cat", "dog"))[0].shape == (0, 8)
    w = torch.from_numpy(unit(rng, 2, 8))
    assert rank_with_examples(keys[:1], w, ["cat", "dog"], 100.0, examples) == rank(keys[:1], w, ["cat", "dog"], 100.0)


def test_embedding_bytes_round_trip_and_rows_of_another_size_are_skipped():
    vector = F.normalize(torch.arange(1.0, 9.0), dim=0)
    assert torch.equal(embedding_from_bytes(embedding_bytes(vector)), vector)
    examples = Examples.from_rows([("fox", embedding_bytes(vector)), ("owl", b"\0" * 12)])
    assert examples.labels == ("fox",)
    assert Examples.from_rows([]) is None


async def test_mixed_chats_share_one_forward_pass_and_each_gets_its_own_examples(tiny_loaded, tiny_classifier):
    gated = GatedClassifier(tiny_loaded)
    image = png_bytes(seed=5)
    plain = tiny_classifier.classify_bytes(image, ANIMALS, top_k=3)
    wrong = plain[-1].label  # the label zero-shot likes least
    features = tiny_classifier.embed_images(tiny_classifier.preprocess(tiny_classifier.decode(image))[None])
    taught = Examples(features, [wrong])
    other_chat = Examples(features, [plain[0].label])
    async with Engine(gated, max_batch=16) as engine:
        first = await hold_first_batch(engine, gated, png_bytes(seed=99), ANIMALS)
        tasks = [
            asyncio.create_task(engine.classify(image, ANIMALS, 3, examples=taught)),
            asyncio.create_task(engine.classify(image, ANIMALS, 3)),
            asyncio.create_task(engine.classify_embedded(image, ANIMALS, 3, examples=other_chat)),
        ]
        await until(lambda: engine.queued == 3)
        gated.gate.set()
        with_examples, without, embedded = await asyncio.gather(*tasks)
        await first
    assert gated.batch_sizes == [1, 3]  # three chats, one forward pass
    assert with_examples[0].label == wrong
    assert [g.label for g in without] == [g.label for g in plain]
    assert isinstance(embedded, Classified) and embedded.guesses[0].label == plain[0].label
    assert torch.allclose(embedding_from_bytes(embedded.embedding), features[0], atol=1e-5)
    assert engine.identity == tiny_classifier.identity


def test_leave_one_out_matches_a_loop_over_the_blend():
    rng = np.random.default_rng(11)
    features, weights = torch.from_numpy(unit(rng, 8, 16)), torch.from_numpy(unit(rng, 3, 16))
    targets = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
    hits = 0
    for i in range(8):
        others = [j for j in range(8) if j != i]
        values = F.one_hot(targets[others], 3).float()
        logits = blend_logits(features[i : i + 1], weights, 30.0, features[others], values, 2.0, 3.5)
        hits += int(logits.argmax() == targets[i])
    assert leave_one_out_top1(features, targets, weights, 30.0, 2.0, 3.5) == hits / 8
    grid = tune_blend(features, targets, weights, 30.0, alphas=(1.0, 2.0), betas=(3.5, 5.5))
    assert len(grid) == 4 and grid[0][2] == max(score for _, _, score in grid)


def drawings_folder(root) -> str:
    """Three labels of six drawings each: one colour per label, sizes and a dot varying."""
    for label, colour in [("red_thing", (230, 20, 20)), ("blue thing", (20, 20, 230)), ("green", (20, 200, 20))]:
        folder = root / "set" / label
        folder.mkdir(parents=True)
        for i in range(6):
            image = Image.new("RGB", (60 + 4 * i, 60), colour)
            image.putpixel((i, i), (255, 255, 255))
            image.save(folder / f"{i}.png")
    return str(root / "set")


def evaluate(folder, model, capsys, *options) -> tuple[int, str]:
    code = main(["evaluate", folder, "--model", model, "--db", ":memory:", *options])
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_evaluate_shots_reports_both_columns_and_is_seeded(tmp_path, tiny_model_name, capsys):
    folder = drawings_folder(tmp_path)
    code, out = evaluate(folder, tiny_model_name, capsys, "--shots", "2", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["zero_shot"]["images"] == report["taught"]["images"] == 12  # 18 drawings, 6 taught
    assert {label: len(paths) for label, paths in report["taught_images"].items()} == {
        "red thing": 2,
        "blue thing": 2,
        "green": 2,
    }
    assert (report["alpha"], report["beta"], report["seed"]) == (DEFAULT_ALPHA, DEFAULT_BETA, 0)
    assert 0.0 <= report["zero_shot"]["top1"] <= 1.0 and report["taught"]["top1"] == 1.0  # near-same drawings
    assert evaluate(folder, tiny_model_name, capsys, "--shots", "2", "--json")[1] == out  # same seed, same run
    other = json.loads(evaluate(folder, tiny_model_name, capsys, "--shots", "2", "--json", "--seed", "3")[1])
    assert other["taught_images"] != report["taught_images"]

    code, text = evaluate(folder, tiny_model_name, capsys, "--shots", "3", "--alpha", "2", "--beta", "8", "--tune")
    assert code == 0
    assert "zero-shot" in text and "taught (alpha" in text and "top-1 accuracy" in text
    assert "top-5 accuracy" not in text  # three labels: the truth is always among the top 5
    assert "tuned on the taught drawings (leave-one-out, 30 pairs)" in text and "taught drawings:" in text


def test_alpha_beta_and_tune_need_shots(tmp_path, tiny_model_name, capsys):
    folder = drawings_folder(tmp_path)
    assert main(["evaluate", folder, "--tune", "--model", tiny_model_name, "--db", ":memory:"]) == 2
    assert "--shots" in capsys.readouterr().err
