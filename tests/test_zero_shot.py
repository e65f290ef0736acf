"""Zero-shot math against a direct open_clip computation with the tiny CLIP."""

import io

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from classifier.zero_shot import encode_text, ensemble_label_embeddings, rank, top_guesses


def test_ensemble_normalises_each_prompt_then_mean_then_renormalises():
    a = torch.tensor([[[3.0, 0.0], [0.0, 1.0]]])  # one label, two templates, unequal norms
    out = ensemble_label_embeddings(a)
    expected = F.normalize(torch.tensor([[0.5, 0.5]]), dim=-1)
    assert torch.allclose(out, expected)
    # Averaging raw vectors would have leaned towards the long one.
    assert not torch.allclose(out, F.normalize(a.mean(dim=1), dim=-1))


def test_truncated_text_encoding_is_exact(tiny_loaded):
    prompts = ["a cat", "this is a painting of cartoon hippopotamus wearing a tiny red hat", "x"]
    tokens = tiny_loaded.tokenizer(prompts)
    assert tokens.shape[1] == 77
    full = F.normalize(tiny_loaded.model.encode_text(tokens).float(), dim=-1)
    cut = encode_text(tiny_loaded.model, tokens, truncate=True)
    assert (full - cut).abs().max().item() <= 1e-5


def test_rank_orders_and_limits():
    image = torch.tensor([[1.0, 0.0]])
    labels_matrix = F.normalize(torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), dim=-1)
    guesses = rank(image, labels_matrix, ["b", "a", "c"], logit_scale=100.0, top_k=2)[0]
    assert [g.label for g in guesses] == ["a", "c"]
    assert guesses[0].score > guesses[1].score
    total = sum(g.score for g in rank(image, labels_matrix, ["b", "a", "c"], 100.0, top_k=10)[0])
    assert total == pytest.approx(1.0, abs=1e-6)


def test_top_guesses_never_asks_for_more_than_labels():
    assert len(top_guesses(torch.tensor([0.2, 0.8]), ["x", "y"], top_k=5)) == 2


def test_probabilities_match_direct_open_clip(tiny_classifier, tiny_loaded):
    """CLI/library path == preprocess -> encode_image/encode_text -> normalise -> softmax."""
    template = "a drawing of a {}."
    from classifier.pipeline import ZeroShotClassifier

    classifier = ZeroShotClassifier(tiny_loaded, [template])
    labels = ["cat", "dog", "giraffe", "fox"]
    image = Image.effect_noise((96, 96), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    ours = classifier.classify_bytes(buffer.getvalue(), labels, top_k=4)

    model = tiny_loaded.model
    with torch.no_grad():
        img = F.normalize(model.encode_image(tiny_loaded.preprocess(image).unsqueeze(0)), dim=-1)
        txt = F.normalize(model.encode_text(tiny_loaded.tokenizer([template.format(x) for x in labels])), dim=-1)
        probs = (model.logit_scale.exp() * img @ txt.T).softmax(dim=-1)[0]
    direct = {label: float(p) for label, p in zip(labels, probs)}
    assert [g.label for g in ours] == sorted(labels, key=lambda x: -direct[x])
    for guess in ours:
        assert guess.score == pytest.approx(direct[guess.label], abs=1e-5)


def test_fitting_before_padding_matches_padding_then_resizing(tiny_classifier, tiny_loaded):
    """The decode shortcut (shrink, then pad) sees what preprocess(pad(image)) sees."""
    from classifier.images import pad_to_square

    image = Image.effect_noise((300, 180), 40).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    fitted = tiny_classifier.preprocess(tiny_classifier.decode(buffer.getvalue()))
    reference = tiny_loaded.preprocess(pad_to_square(image))
    assert fitted.shape == reference.shape
    a = tiny_classifier.embed_images(fitted.unsqueeze(0))
    b = tiny_classifier.embed_images(reference.unsqueeze(0))
    assert float((a * b).sum()) >= 0.999
