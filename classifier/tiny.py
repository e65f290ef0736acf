"""A tiny CLIP with random weights, saved as an open_clip ``local-dir:`` folder.

Its guesses are meaningless; it exists so the whole pipeline (factory, real BPE
tokenizer, preprocessing, cache, CLI, bot) can run offline in a fraction of a
second: tests, smoke runs, trying the tools without downloading weights.

``save_tiny_multilingual_model`` writes the same with a Hugging Face text tower,
the way ``xlm-roberta-base-ViT-B-32`` is built: an XLM-RoBERTa config of a few
thousand parameters and a tokenizer trained (with ``tokenizers``) on a few
sentences in English, Spanish and Russian, all saved in the folder; nothing
comes from the hub. open_clip's factory builds it through its ``hf_model_name``
path, with ``transformers``.
"""

import json
from pathlib import Path

import torch

TINY_MODEL_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def save_tiny_model(folder: str | Path, seed: int = 0) -> Path:
    """Write ``open_clip_config.json`` and seeded random weights into ``folder``."""
    from open_clip.model import CLIP

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_cfg": TINY_MODEL_CFG, "preprocess_cfg": {}}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    torch.manual_seed(seed)
    model = CLIP(**json.loads(json.dumps(TINY_MODEL_CFG)))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


# What the tiny tokenizer learns its pieces from: the three drawing ensembles and the default animals.
_TOKENIZER_SENTENCES = (
    "a drawing of a cat. a sketch of a dog. a doodle of a fox. a cartoon rabbit. art of the bear.",
    "a child's drawing of a giraffe. a painting of the zebra. this is a painting of cartoon owl",
    "un dibujo de gato. un boceto de perro. un garabato de zorro. conejo de caricatura. jirafa.",
    "un dibujo infantil de oso. una pintura de cebra. ilustración de búho. esto es una pintura",
    "рисунок: кошка. набросок: собака. лиса на рисунке. кролик в мультяшном стиле. медведь.",
    "детский рисунок: жираф. картина: зебра. иллюстрация: сова. это мультяшная картинка",
)
TINY_TEXT_CONTEXT = 32
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")  # XLM-RoBERTa's ids 0-3, then the mask


def save_tiny_multilingual_model(folder: str | Path, seed: int = 0) -> Path:
    """Write a tiny CLIP whose text tower is a Hugging Face XLM-RoBERTa (config, tokenizer, weights)."""
    from open_clip.model import CustomTextCLIP
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(),
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        model_max_length=TINY_TEXT_CONTEXT,
    )
    tokenizer.save_pretrained(folder)
    text_config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=TINY_TEXT_CONTEXT + 2,  # RoBERTa's positions start after the padding id
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    text_config.save_pretrained(folder)
    model_cfg = {
        "embed_dim": TINY_MODEL_CFG["embed_dim"],
        "vision_cfg": TINY_MODEL_CFG["vision_cfg"],
        "text_cfg": {
            "hf_model_name": str(folder),  # the folder's own config.json: open_clip builds the tower from it
            "hf_tokenizer_name": str(folder),
            "hf_pooler_type": "mean_pooler",
            "hf_proj_type": "linear",
            "context_length": TINY_TEXT_CONTEXT,
        },
    }
    config = {"model_cfg": model_cfg, "preprocess_cfg": {}, "languages": ["*"]}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    torch.manual_seed(seed)
    cfg = json.loads(json.dumps(model_cfg))
    cfg["text_cfg"]["hf_model_pretrained"] = False
    model = CustomTextCLIP(**cfg)
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


def _train_tokenizer():
    """A unigram tokenizer (XLM-RoBERTa's kind) learned from ``_TOKENIZER_SENTENCES``: ``<s> … </s>``."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from tokenizers.trainers import UnigramTrainer

    tokenizer = Tokenizer(Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = UnigramTrainer(vocab_size=400, special_tokens=list(_SPECIAL_TOKENS), unk_token="<unk>")
    tokenizer.train_from_iterator(_TOKENIZER_SENTENCES, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tokenizer
