"""Precision: ``auto`` picks by measurement, int8 loads through the factory and agrees with fp32."""

import logging

import pytest
import torch
from torch import nn
from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

from classifier.errors import ModelLoadError
from classifier.model import fuse_for_inference, image_linear_share, load_model, resolve_precision
from classifier.pipeline import ZeroShotClassifier
from classifier.precision import SelfAttention, choose_precision, measure_gflops, rewrite_attention
from classifier.prompts import DEFAULT_LABELS

CPU = torch.device("cpu")
# The stated tolerance of int8 on the tiny model (random weights: a proxy for real ones).
INT8_COSINE_MIN = 0.99
INT8_TOP1_AGREEMENT = 0.9


def test_auto_keeps_fp32_over_a_precision_that_measures_slower(caplog):
    """bf16 emulated (AVX2 only) runs ~100x slower than fp32: auto must not take it by name."""
    caplog.set_level(logging.INFO, logger="classifier.precision")
    measured = {"fp32": 156.0, "bf16": 1.1, "int8": 120.0}
    assert resolve_precision("auto", CPU, measure=lambda candidates: {c: measured[c] for c in candidates}) == "fp32"
    [record] = [r for r in caplog.records if "precision auto" in r.getMessage()]
    assert "fp32" in record.getMessage() and "bf16 1.1" in record.getMessage()


def test_auto_takes_a_clearly_faster_precision_and_says_why(caplog):
    caplog.set_level(logging.INFO, logger="classifier.precision")
    assert resolve_precision("auto", CPU, measure=lambda _: {"fp32": 100.0, "bf16": 120.0, "int8": 400.0}) == "int8"
    assert "int8 ran 4.0x fp32" in caplog.text


def test_choose_precision_needs_a_clear_gain():
    assert choose_precision({"fp32": 100.0, "bf16": 110.0}).precision == "fp32"  # within the probe's spread
    assert choose_precision({"fp32": 100.0, "bf16": 130.0}).precision == "bf16"
    assert choose_precision({}).precision == "fp32"


def test_int8_is_no_candidate_for_a_convolutional_image_tower():
    """Dynamic int8 speeds up linear layers only: on MobileCLIP2-S0 (convolutions) it ran 0.92x fp32."""
    probe = {"fp32": 100.0, "bf16": 250.0, "int8": 400.0}
    choice = choose_precision(probe, linear_share=0.06)
    assert choice.precision == "bf16" and "not int8" in choice.reason and "6%" in choice.reason
    assert choose_precision({"fp32": 100.0, "int8": 400.0}, linear_share=0.06).precision == "fp32"
    assert choose_precision(probe, linear_share=0.97).precision == "int8"
    assert choose_precision(probe).precision == "int8"  # share unknown: the probe alone


def test_auto_counts_each_models_image_flops_before_choosing():
    """The share is counted on the model's config built on the meta device: no weights, a fraction of a second."""
    vit, mobile = image_linear_share("ViT-B-32-quickgelu"), image_linear_share("fast")
    assert vit is not None and vit > 0.9
    assert mobile is not None and mobile < 0.2
    assert image_linear_share("local-dir:/nowhere") is None
    probe = {"fp32": 100.0, "bf16": 250.0, "int8": 400.0}
    assert resolve_precision("auto", CPU, measure=lambda _: probe, model_name="ViT-B-32-quickgelu") == "int8"
    assert resolve_precision("auto", CPU, measure=lambda _: probe, model_name="MobileCLIP2-S0") == "bf16"


def test_mobileclip_is_fused_for_inference_and_answers_as_before():
    """MobileCLIP's training-time branches become single convolutions (timm's reparameterize_model), its
    weights channels-last on a CPU; its image embeddings stay the unfused model's."""
    import open_clip
    from timm.utils.model import reparameterize_model  # noqa: F401 - the fusing needs timm

    torch.manual_seed(0)
    model = open_clip.create_model("MobileCLIP2-S0", pretrained=None).eval()
    pixels = torch.randn(2, 3, 256, 256)
    with torch.inference_mode():
        before = model.encode_image(pixels)
    branches = sum(isinstance(module, nn.Conv2d) for module in model.modules())
    fused = fuse_for_inference(model, CPU)
    assert sum(isinstance(module, nn.Conv2d) for module in fused.modules()) < branches  # 119 -> 95
    convolution = next(module for module in fused.modules() if isinstance(module, nn.Conv2d))
    assert convolution.weight.is_contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        after = fused.encode_image(pixels)
    assert torch.nn.functional.cosine_similarity(before, after).min() > 0.9999


def test_a_vit_is_left_as_it_is(tiny_loaded):
    model = tiny_loaded.model
    assert fuse_for_inference(model, CPU) is model
    assert model.visual.conv1.weight.is_contiguous()  # one convolution (the patch embedding): not rearranged


def test_a_forced_precision_is_kept_and_int8_refused_on_a_gpu():
    assert resolve_precision("bf16", CPU, measure=lambda _: pytest.fail("forced: nothing measured")) == "bf16"
    with pytest.raises(ModelLoadError, match="int8"):
        resolve_precision("int8", torch.device("cuda"))


def test_the_probe_measures_every_candidate():
    rates = measure_gflops(["fp32", "int8"], shape=(16, 64, 64), seconds=0.005, rounds=1)
    assert set(rates) == {"fp32", "int8"} and all(rate > 0 for rate in rates.values())


@pytest.mark.parametrize("batch_first", [True, False])
def test_rewritten_attention_computes_what_multihead_attention_does(batch_first):
    torch.manual_seed(0)
    attention = nn.MultiheadAttention(32, 4, batch_first=batch_first).eval()
    rewritten = SelfAttention(attention)
    x = torch.randn(3, 5, 32) if batch_first else torch.randn(5, 3, 32)  # 3 sequences of 5 tokens
    mask = torch.full((5, 5), float("-inf")).triu(1)
    for kwargs in ({}, {"attn_mask": mask}):
        expected = attention(x, x, x, need_weights=False, **kwargs)[0]
        assert torch.allclose(rewritten(x, x, x, need_weights=False, **kwargs)[0], expected, atol=1e-5)
    y = torch.randn(3, 7, 32) if batch_first else torch.randn(7, 3, 32)  # cross-attention: keys, values from y
    expected = attention(x, y, y, need_weights=False)[0]
    assert torch.allclose(rewritten(x, y, y, need_weights=False)[0], expected, atol=1e-5)
    model = rewrite_attention(nn.Sequential(nn.MultiheadAttention(32, 4)))
    assert isinstance(model[0], SelfAttention)


def test_int8_loads_through_the_factory_and_agrees_with_fp32(tiny_model_name, tiny_loaded):
    int8 = load_model(tiny_model_name, device="cpu", precision="int8")
    assert int8.precision == "int8" and int8.identity == tiny_loaded.identity  # taught pictures stay the model's
    assert int8.cache_identity == tiny_loaded.identity + "+int8" != tiny_loaded.cache_identity
    quantized = [m for m in int8.model.modules() if isinstance(m, DynamicLinear)]
    assert len(quantized) == 2 * 4 * 2  # both towers: 2 blocks each, 4 linear layers a block
    assert not any(isinstance(m, nn.MultiheadAttention) for m in int8.model.modules())
    fp32, low = ZeroShotClassifier(tiny_loaded), ZeroShotClassifier(int8)
    pixels = torch.rand(32, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 4 - 2
    image_fp32, image_int8 = fp32.embed_images(pixels), low.embed_images(pixels)
    assert (image_fp32 * image_int8).sum(-1).min().item() >= INT8_COSINE_MIN
    labels = list(DEFAULT_LABELS)
    text_fp32, text_int8 = fp32.label_weights(labels), low.label_weights(labels)
    assert (text_fp32 * text_int8).sum(-1).min().item() >= INT8_COSINE_MIN
    assert not torch.equal(text_fp32, text_int8)  # int8 really ran
    agreement = ((image_fp32 @ text_fp32.T).argmax(-1) == (image_int8 @ text_int8.T).argmax(-1)).float().mean()
    assert agreement.item() >= INT8_TOP1_AGREEMENT


def test_int8_and_fp32_keep_separate_label_caches(tiny_model_name, tiny_loaded, tmp_path):
    from classifier.database import open_database

    db = open_database(tmp_path / "cache.db")
    ZeroShotClassifier(tiny_loaded, db=db).label_weights(["cat"])
    int8 = ZeroShotClassifier(load_model(tiny_model_name, device="cpu", precision="int8"), db=db)
    int8.label_weights(["cat"])
    assert int8.text_cache.encoder_calls == 1  # fp32's row was not taken for int8's
    models = {row["model"] for row in db.query("select distinct model from text_embeddings")}
    assert models == {tiny_loaded.identity, tiny_loaded.identity + "+int8"}
