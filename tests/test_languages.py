"""Prompts in the labels' language: per-language templates, a language per request, one cache per template set,
and a tiny multilingual CLIP (Hugging Face text tower, local tokenizer) through the real factory."""

import asyncio
import json
import re

import pytest
import torch
from helpers.engine import GatedClassifier, assert_same_guesses, hold_first_batch
from helpers.pictures import png_bytes
from helpers.waiting import until

from classifier.cli import main
from classifier.database import open_database
from classifier.engine import Engine
from classifier.pipeline import ZeroShotClassifier
from classifier.presets import ANY_LANGUAGE
from classifier.prompts import (
    DRAWING_TEMPLATES,
    DRAWING_TEMPLATES_BY_LANGUAGE,
    DRAWING_TEMPLATES_ES,
    DRAWING_TEMPLATES_RU,
    LANGUAGES,
    check_templates,
    looks_english,
    templates_for,
    templates_key,
)
from classifier.text_cache import TABLE
from classifier.zero_shot import encode_text

ANIMALS_ES = ["gato", "perro", "zorro", "jirafa"]
ANIMALS_RU = ["кошка", "собака", "лиса", "жираф"]


def test_every_language_has_a_full_valid_ensemble():
    assert LANGUAGES == ("en", "es", "ru")
    keys = set()
    for templates in DRAWING_TEMPLATES_BY_LANGUAGE.values():
        assert check_templates(templates) and len(templates) == len(DRAWING_TEMPLATES)
        keys.add(templates_key(templates))
    assert len(keys) == len(LANGUAGES)


def test_templates_fit_any_label_without_articles_or_inflection():
    for template in DRAWING_TEMPLATES_ES:  # a bare noun after "de", or a label standing alone
        assert re.search(r"(^|\bde |: )\{\}", template), template
    for template in DRAWING_TEMPLATES_RU:  # the label stays in the nominative: first, or after a colon
        assert template.startswith("{}") or ": {}" in template, template


@pytest.mark.parametrize(
    ("code", "templates"),
    [("es", DRAWING_TEMPLATES_ES), ("es-419", DRAWING_TEMPLATES_ES), ("RU", DRAWING_TEMPLATES_RU), ("de", None)],
)
def test_templates_for_a_telegram_language_code(code, templates):
    assert templates_for(code) == (templates or DRAWING_TEMPLATES)


@pytest.mark.parametrize(
    ("label", "english"),
    [
        ("fox", True),
        ("polar bear", True),
        ("🦒", True),
        ("llama", True),
        ("zorro", False),
        ("Oso polar", False),
        ("leon", False),
        ("león", False),
        ("ñandú", False),
        ("лиса", False),
        ("猫", False),
    ],
)
def test_looks_english(label, english):
    assert looks_english(label) is english


def test_an_english_only_model_prompts_every_language_in_english(tiny_classifier):
    assert not tiny_classifier.reads("es") and tiny_classifier.reads("en-US")
    assert tiny_classifier.templates_for("es") == DRAWING_TEMPLATES
    assert tiny_classifier.text_cache_for("ru") is tiny_classifier.text_cache_for("en") is tiny_classifier.text_cache


def test_fixed_templates_serve_every_language(tiny_multilingual_loaded):
    classifier = ZeroShotClassifier(tiny_multilingual_loaded, ["{}"])
    assert classifier.templates_for("es") == classifier.templates_for("ru") == ("{}",)


def test_the_tiny_multilingual_model_is_built_from_local_files_only(tiny_multilingual_dir, tiny_multilingual_loaded):
    config = json.loads((tiny_multilingual_dir / "open_clip_config.json").read_text())
    assert config["model_cfg"]["text_cfg"]["hf_model_name"] == str(tiny_multilingual_dir)
    assert type(tiny_multilingual_loaded.model).__name__ == "CustomTextCLIP"
    assert tiny_multilingual_loaded.languages == (ANY_LANGUAGE,)
    tokens = tiny_multilingual_loaded.tokenizer(["un dibujo de gato.", "рисунок: кошка."])
    unknown = 3  # <unk>: the tokenizer has pieces for both scripts
    assert tokens.shape == (2, 32) and not (tokens == unknown).any()


def test_truncated_text_context_is_exact_for_a_hugging_face_tower(tiny_multilingual_loaded):
    prompts = [template.replace("{}", "кошка") for template in DRAWING_TEMPLATES_RU] + ["gato"]
    tokens = tiny_multilingual_loaded.tokenizer(prompts)
    full = encode_text(tiny_multilingual_loaded.model, tokens, truncate=False)
    cut = encode_text(tiny_multilingual_loaded.model, tokens)
    assert torch.allclose(full, cut, atol=1e-5)


def test_label_cache_keys_include_the_template_language(tiny_multilingual_loaded, tmp_path):
    db = open_database(tmp_path / "cache.db")
    classifier = ZeroShotClassifier(tiny_multilingual_loaded, db=db)
    assert classifier.templates_for("es-419") == DRAWING_TEMPLATES_ES
    spanish = classifier.label_weights(["gato", "perro"], "es")
    english = classifier.label_weights(["gato", "perro"], "en")
    assert not torch.allclose(spanish, english)  # the same words, prompted in two languages
    rows = db.execute(f"select templates from {TABLE} where label = 'gato'").fetchall()
    keys = {templates_key(DRAWING_TEMPLATES_ES), templates_key(DRAWING_TEMPLATES)}
    assert sorted(key for (key,) in rows) == sorted(keys)
    reopened = ZeroShotClassifier(tiny_multilingual_loaded, db=open_database(tmp_path / "cache.db"))
    assert torch.equal(reopened.label_weights(["gato", "perro"], "es"), spanish)
    assert reopened.text_cache_for("es").encoder_calls == 0


def test_spanish_labels_are_guessed_through_the_classifier(tiny_multilingual_loaded):
    classifier = ZeroShotClassifier(tiny_multilingual_loaded)
    guesses = classifier.classify_bytes(png_bytes(seed=1), ANIMALS_ES, top_k=4, language="es")
    assert sorted(g.label for g in guesses) == sorted(ANIMALS_ES)
    assert abs(sum(g.score for g in guesses) - 1) < 1e-4


async def test_a_batch_mixing_languages_ranks_each_with_its_own_prompts(tiny_multilingual_loaded):
    gated = GatedClassifier(tiny_multilingual_loaded)
    reference = ZeroShotClassifier(tiny_multilingual_loaded)
    chats = [  # the same words in two languages' prompts, and a Russian chat, in one forward pass
        (png_bytes(seed=30), ANIMALS_ES, "es"),
        (png_bytes(seed=30), ANIMALS_ES, "en"),
        (png_bytes(seed=31), ANIMALS_RU, "ru-RU"),
    ]
    async with Engine(gated, max_batch=8) as engine:
        assert engine.reads("es") and engine.reads("ru")
        await engine.prepare_labels(ANIMALS_ES, "es")
        assert engine.labels_ready(ANIMALS_ES, "es") and not engine.labels_ready(ANIMALS_ES, "ru")
        first = await hold_first_batch(engine, gated, png_bytes(seed=99), ["a", "b"])
        tasks = [asyncio.create_task(engine.classify(image, labels, 4, language)) for image, labels, language in chats]
        await until(lambda: engine.queued == len(chats))
        gated.gate.set()
        results = await asyncio.gather(*tasks)
        await first
    assert gated.batch_sizes == [1, len(chats)]
    for (image, labels, language), guesses in zip(chats, results):
        assert_same_guesses(guesses, reference.classify_bytes(image, labels, 4, language))
    spanish, english = ({g.label: g.score for g in guesses} for guesses in results[:2])
    assert any(abs(spanish[label] - english[label]) > 1e-4 for label in ANIMALS_ES)


def test_classify_command_takes_the_labels_language(tiny_multilingual_dir, tmp_path, capsys):
    path = tmp_path / "p.png"
    path.write_bytes(png_bytes(seed=5))
    model = f"local-dir:{tiny_multilingual_dir}"
    argv = ["classify", str(path), "--labels", "gato,perro", "--json", "--model", model, "--db", ":memory:"]
    assert main([*argv, "--language", "es"]) == 0
    spanish = json.loads(capsys.readouterr().out)[0]["guesses"]
    assert main(argv) == 0
    english = json.loads(capsys.readouterr().out)[0]["guesses"]
    assert {g["label"] for g in spanish} == {"gato", "perro"}
    assert {g["label"]: round(g["score"], 6) for g in spanish} != {g["label"]: round(g["score"], 6) for g in english}
