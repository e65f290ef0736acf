"""Label embeddings: computed once, shared, persisted, only missing ones encoded."""

import subprocess
import sys
import textwrap

import pytest
import torch

from classifier.database import open_database
from classifier.pipeline import ZeroShotClassifier
from classifier.text_cache import TextEmbeddingCache


class CountingEncoder:
    def __init__(self, dim=4):
        self.prompts: list[str] = []
        self.dim = dim

    def __call__(self, prompts):
        self.prompts.extend(prompts)
        out = torch.stack([torch.tensor([float(len(p)), 1.0, float(hash(p) % 7), 2.0]) for p in prompts])
        return torch.nn.functional.normalize(out, dim=-1)


def test_only_missing_labels_are_encoded():
    encoder = CountingEncoder()
    cache = TextEmbeddingCache(encoder, "m", ["a {}", "b {}"])
    first = cache.get(["cat", "dog"])
    assert first.shape == (2, 4)
    assert encoder.prompts == ["a cat", "b cat", "a dog", "b dog"]
    again = cache.get(["dog", "fox", "cat"])
    assert encoder.prompts[4:] == ["a fox", "b fox"]
    assert torch.equal(again[0], first[1]) and torch.equal(again[2], first[0])
    assert cache.encoder_calls == 2
    assert torch.allclose(again.norm(dim=-1), torch.ones(3))


def test_persisted_rows_are_reused_and_keyed_by_model_and_templates(tmp_path):
    path = tmp_path / "cache.db"
    encoder = CountingEncoder()
    TextEmbeddingCache(encoder, "m1", ["a {}"], open_database(path)).get(["cat", "dog"])
    assert len(encoder.prompts) == 2

    reloaded = CountingEncoder()
    cache = TextEmbeddingCache(reloaded, "m1", ["a {}"], open_database(path))
    cache.get(["dog", "cat"])
    assert reloaded.prompts == [] and cache.encoder_calls == 0

    other_model = CountingEncoder()
    TextEmbeddingCache(other_model, "m2", ["a {}"], open_database(path)).get(["cat"])
    other_templates = CountingEncoder()
    TextEmbeddingCache(other_templates, "m1", ["b {}"], open_database(path)).get(["cat"])
    assert other_model.prompts == ["a cat"] and other_templates.prompts == ["b cat"]


@pytest.mark.slow
def test_cache_survives_a_new_process(tmp_path, tiny_model_name, tiny_loaded):
    """Two real processes: the second computes nothing and gets identical vectors."""
    path = tmp_path / "cache.db"
    first = ZeroShotClassifier(tiny_loaded, db=open_database(path))
    vectors = first.label_weights(["cat", "giraffe"])
    assert first.text_cache.encoder_calls == 1
    torch.save(vectors, tmp_path / "vectors.pt")
    script = textwrap.dedent(
        f"""
        import torch
        from classifier.model import load_model
        from classifier.pipeline import ZeroShotClassifier
        from classifier.database import open_database
        loaded = load_model({tiny_model_name!r}, device="cpu", precision="fp32")
        c = ZeroShotClassifier(loaded, db=open_database({str(path)!r}))
        v = c.label_weights(["giraffe", "cat"])
        assert c.text_cache.encoder_calls == 0, c.text_cache.encoder_calls
        old = torch.load({str(tmp_path / "vectors.pt")!r})
        assert torch.equal(v[0], old[1]) and torch.equal(v[1], old[0])
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
