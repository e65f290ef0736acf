"""Cold label-encoding time of the multilingual preset's text tower, with random weights, on this machine.

    python -m toonzoo_tools.multilingual_text [--full-context]

Builds ``xlm-roberta-base-ViT-B-32``'s architecture (XLM-RoBERTa base: 12 layers,
width 768, 250,002-piece vocabulary) from a local config, without the hub, and
encodes 100 Spanish labels x 8 templates through ``ZeroShotClassifier``, as the
bot does for a new label set. The tokenizer is the tiny test model's (trained on
a few sentences): its prompts are longer than XLM-RoBERTa's own, so the
truncated timing errs on the slow side. ``--full-context`` also times every
prompt padded to 77 tokens (open_clip's ``encode_text`` without truncation).
"""

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import open_clip
import torch

from classifier.model import LoadedModel
from classifier.pipeline import ZeroShotClassifier
from classifier.tiny import save_tiny_multilingual_model
from classifier.zero_shot import encode_text

ANIMALS_ES = (
    "gato perro zorro conejo oso panda león tigre elefante jirafa cebra caballo vaca cerdo oveja mono "
    "ratón búho pingüino pato gallina pez tiburón ballena pulpo"
).split()
COLOURS_ES = ("rojo", "azul", "verde", "grande")
XLM_ROBERTA_BASE: dict[str, Any] = {
    "vocab_size": 250002,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 514,
    "type_vocab_size": 1,
    "layer_norm_eps": 1e-5,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
}


def build_classifier(folder: Path) -> ZeroShotClassifier:
    """xlm-roberta-base-ViT-B-32 with random weights, its text config read from ``folder``."""
    from transformers import XLMRobertaConfig

    save_tiny_multilingual_model(folder)  # for its tokenizer
    XLMRobertaConfig(**XLM_ROBERTA_BASE).save_pretrained(folder)
    cfg = json.loads(json.dumps(open_clip.get_model_config("xlm-roberta-base-ViT-B-32")))
    cfg["text_cfg"].update(hf_model_name=str(folder), hf_tokenizer_name=str(folder), hf_model_pretrained=False)
    torch.manual_seed(0)
    model = open_clip.model.CustomTextCLIP(**cfg).eval()
    loaded = LoadedModel(
        model=model,
        preprocess=lambda image: image,  # never called: this tool encodes text only
        tokenizer=open_clip.tokenizer.HFTokenizer(str(folder), context_length=77),
        device=torch.device("cpu"),
        precision="fp32",
        identity="xlm-roberta-base-ViT-B-32@random",
        name="xlm-roberta-base-ViT-B-32",
        pretrained=None,
        random_weights=True,
        languages=("*",),
    )
    return ZeroShotClassifier(loaded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-context", action="store_true", help="also time prompts padded to 77 tokens")
    parser.add_argument(
        "--tokens",
        type=int,
        metavar="N",
        help="also time 800 synthetic prompts of N tokens each (XLM-RoBERTa's own tokenizer: about 10-12)",
    )
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    labels = [f"{animal} {colour}" for animal in ANIMALS_ES for colour in COLOURS_ES]
    with tempfile.TemporaryDirectory() as folder:
        classifier = build_classifier(Path(folder))
        params = sum(p.numel() for p in classifier.loaded.model.text.parameters())
        cache = classifier.text_cache_for("es")
        prompts = [template.replace("{}", label) for label in labels for template in cache.templates]
        tokens = classifier.loaded.tokenizer(prompts)
        lengths = (tokens != 1).sum(dim=1).float()
        print(f"text tower: {params / 1e6:.0f} M parameters; {len(labels)} labels x {len(cache.templates)} templates")
        print(f"tokens per prompt: mean {lengths.mean():.1f}, max {int(lengths.max())}")
        started = time.perf_counter()
        classifier.label_weights(labels, "es")
        cut = time.perf_counter() - started
        print(f"cold, context cut to the longest prompt (toonzoo's path): {cut:.1f} s, {cache.encoder_calls} passes")
        if args.full_context:
            started = time.perf_counter()
            for start in range(0, len(prompts), 32):
                encode_text(classifier.loaded.model, tokens[start : start + 32], truncate=False)
            print(f"cold, every prompt padded to 77 tokens: {time.perf_counter() - started:.1f} s")
        if args.tokens:
            synthetic = torch.full((len(prompts), 77), 1)  # padding
            synthetic[:, : args.tokens] = torch.randint(5, XLM_ROBERTA_BASE["vocab_size"], (len(prompts), args.tokens))
            synthetic[:, 0], synthetic[:, args.tokens - 1] = 0, 2  # <s> … </s>
            started = time.perf_counter()
            for start in range(0, len(prompts), 32):
                encode_text(classifier.loaded.model, synthetic[start : start + 32])
            print(f"cold, {args.tokens}-token prompts, context cut: {time.perf_counter() - started:.1f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
