"""Command line for the classifier: ``toonzoo classify``, ``evaluate``, ``models``, ``tiny-model``.

The ``toonzoo`` entry point lives in ``bot.cli``, which adds ``run``; this
module never imports the bot.
"""

import argparse
import contextlib
import functools
import itertools
import json
import logging
import os
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from .defaults import DEFAULT_DB, DEFAULT_MODEL, DEFAULT_PRETRAINED, FEW_SHOT_ALPHA, FEW_SHOT_BETA, PRECISIONS
from .errors import UserError
from .presets import PRESETS, RESULTS_TABLE, Preset
from .prompts import DEFAULT_LABELS, DEFAULT_LANGUAGE, LANGUAGES, looks_english

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"}
EVAL_BATCH = 32
TOP_K = 5  # evaluate's second accuracy figure: the truth among the top 5
PROGRESS_MIN_FILES = 10  # fewer files finish in a few seconds: no progress display
VERBOSE_HELP = "-v: toonzoo's progress; -vv: also the libraries' (every command, before or after its name)"
# Loggers of our packages; "__main__" is bot.cli itself when run as ``python -m bot.cli``.
OWN_LOGGERS = ("bot", "classifier", "__main__")


def add_model_arguments(parser: argparse.ArgumentParser, environ=os.environ, *, service: bool = False) -> None:
    """--model/--pretrained/--precision/--device/--db/--engine-url, defaulting to the TOONZOO_* environment
    (``service``: the model settings only, for ``toonzoo serve``)."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        default=environ.get("TOONZOO_MODEL", DEFAULT_MODEL),
        help="a preset (" + ", ".join(preset.name for preset in PRESETS) + "; see 'toonzoo models'), "
        "an open_clip name (ViT-B-32-quickgelu), hf-hub:ORG/REPO or local-dir:PATH "
        "(env TOONZOO_MODEL; default %(default)s)",
    )
    group.add_argument(
        "--pretrained",
        default=environ.get("TOONZOO_PRETRAINED") or None,
        help="weights: a tag (openai, ...), a checkpoint file, or 'random' "
        f"(env TOONZOO_PRETRAINED; default: the preset's tag, else {DEFAULT_PRETRAINED})",
    )
    group.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=environ.get("TOONZOO_PRECISION", "auto"),
        help="auto = fp16 on CUDA; on a CPU the fastest of fp32, bf16, int8 (env TOONZOO_PRECISION)",
    )
    group.add_argument(
        "--device",
        default=environ.get("TOONZOO_DEVICE", "auto"),
        help="auto, cpu, cuda, cuda:1 ... (env TOONZOO_DEVICE)",
    )
    if service:
        return
    group.add_argument(
        "--db",
        default=environ.get("TOONZOO_DB", DEFAULT_DB),
        help="SQLite file caching label embeddings, ':memory:' for none (env TOONZOO_DB)",
    )
    group.add_argument(
        "--engine-url",
        default=environ.get("TOONZOO_ENGINE_URL") or None,
        metavar="URL",
        help="embed through the engine service at URL ('toonzoo serve'; env TOONZOO_ENGINE_URL, "
        "secret from TOONZOO_ENGINE_SECRET); default: the model runs in this process",
    )


AddCommand = Callable[..., argparse.ArgumentParser]
"""Adds a command: ``add_command(name, help=...)`` returns its parser, which already takes ``-v``."""


def build_parser(*extensions: Callable[[AddCommand], object]) -> tuple[argparse.ArgumentParser, dict]:
    """The ``toonzoo`` parser and its commands by name; each extension adds commands (``bot.cli``: run).

    ``-v`` works before and after the command: count both with ``verbosity(args)``.
    """
    parser = argparse.ArgumentParser(prog="toonzoo", description="Guess what a drawing shows, with CLIP zero-shot.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help=VERBOSE_HELP)
    parser.set_defaults(handler=functools.partial(show_commands, parser))  # ``toonzoo`` alone
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0, dest="command_verbose", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_command = functools.partial(commands.add_parser, parents=[common])

    classify = add_command("classify", help="guess what pictures show")
    classify.add_argument("images", nargs="+", metavar="IMAGE", help="picture files (JPEG, PNG, WebP, GIF, BMP)")
    classify.add_argument(
        "--labels", type=label_list, help=f"comma-separated labels (default: {len(DEFAULT_LABELS)} cartoon animals)"
    )
    classify.add_argument(
        "--template",
        action="append",
        dest="templates",
        metavar="T",
        help=TEMPLATE_HELP,
    )
    classify.add_argument("--top-k", type=positive_int, default=5, metavar="K", help="guesses per image (default 5)")
    add_language_argument(classify)
    classify.add_argument("--json", action="store_true", help="print JSON")
    add_model_arguments(classify)
    classify.set_defaults(handler=cmd_classify)

    evaluate = add_command("evaluate", help="measure accuracy on a folder of labelled drawings")
    evaluate.add_argument("folder", metavar="DIR", help="one sub-folder per label, holding its images")
    evaluate.add_argument("--template", action="append", dest="templates", metavar="T", help=TEMPLATE_HELP)
    add_language_argument(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.add_argument(
        "--shots",
        type=positive_int,
        metavar="K",
        help="teach K drawings per label (picked with --seed), evaluate on the rest: zero-shot vs taught "
        "(each label's folder needs at least K+1 pictures)",
    )
    evaluate.add_argument("--alpha", type=float, metavar="A", help=f"cache model weight (default {FEW_SHOT_ALPHA:g})")
    evaluate.add_argument("--beta", type=float, metavar="B", help=f"cache model sharpness (default {FEW_SHOT_BETA:g})")
    evaluate.add_argument(
        "--tune", action="store_true", help="pick alpha and beta by leave-one-out on the taught drawings only"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="which drawings are taught (default %(default)s)")
    add_model_arguments(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)

    models = add_command("models", help="list the model presets, their published figures and whether they are cached")
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(handler=cmd_models)

    tiny = add_command("tiny-model", help="write a tiny random-weight CLIP folder (offline smoke tests)")
    tiny.add_argument("folder", metavar="DIR", help="the folder to write (created if missing)")
    tiny.add_argument(
        "--multilingual",
        action="store_true",
        help="with a Hugging Face (XLM-RoBERTa) text tower and a tokenizer for English, Spanish and Russian",
    )
    tiny.set_defaults(handler=cmd_tiny_model)

    serve = add_command("serve", help="serve the model to bots and commands over HTTP (Ray Serve; the serve extra)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default %(default)s; others need TOONZOO_ENGINE_SECRET)",
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default %(default)s)")
    serve.add_argument("--replicas", type=positive_int, default=1, metavar="N", help="model replicas (default 1)")
    serve.add_argument(
        "--gpus-per-replica", type=float, default=0.0, metavar="G", help="GPUs each replica takes (default 0: CPU)"
    )
    serve.add_argument(
        "--address",
        help="join the Ray cluster at this address ('auto': the one 'ray start' began here); "
        "default: start Ray in this process",
    )
    serve.add_argument(
        "--max-batch", type=positive_int, metavar="N", help="pictures per forward pass (TOONZOO_MAX_BATCH)"
    )
    serve.add_argument("--max-wait-ms", type=float, metavar="MS", help="wait for more pictures (TOONZOO_MAX_WAIT_MS)")
    add_model_arguments(serve, service=True)
    serve.set_defaults(handler=cmd_serve)
    for extend in extensions:
        extend(add_command)
    return parser, commands.choices


def show_commands(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``toonzoo`` without a command: the help with every command on stderr, exit status 2 (a usage error)."""
    parser.print_help(sys.stderr)
    return 2


TEMPLATE_HELP = "prompt template with one {} (repeatable; default: the drawing ensemble)"


def add_language_argument(parser: argparse.ArgumentParser) -> None:
    """--language: the labels' language, which picks the prompt templates of a multilingual model."""
    parser.add_argument(
        "--language",
        default=DEFAULT_LANGUAGE,
        metavar="CODE",
        help=f"the labels' language ({', '.join(LANGUAGES)}, ...): a multilingual model gets prompts in it "
        "(default %(default)s)",
    )


def verbosity(args: argparse.Namespace) -> int:
    """How many ``-v`` were given, before and after the command."""
    return args.verbose + getattr(args, "command_verbose", 0)


def parse_label_list(text: str | None) -> list[str]:
    """``"cat, dog,,fox"`` -> ``["cat", "dog", "fox"]``; ``None`` -> the default labels."""
    if text is None:
        return list(DEFAULT_LABELS)
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def label_list(text: str) -> list[str]:
    """argparse type of ``--labels``: at least two distinct labels."""
    labels = parse_label_list(text)
    if len(labels) < 2:
        raise argparse.ArgumentTypeError(f"{text!r} gives {len(labels)} label(s): give at least two, e.g. cat,dog")
    return labels


def positive_int(text: str) -> int:
    """argparse type of counts such as ``--top-k``: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


@contextlib.contextmanager
def file_progress(total: int, stream: TextIO | None = None) -> Iterator[Callable[[str], None]]:
    """Yields ``done(path)``: progress on stderr for many files, a bar on a terminal, else one line per file."""
    stream = stream or sys.stderr
    if total < PROGRESS_MIN_FILES:
        yield lambda path: None
        return
    if stream.isatty():
        from tqdm import tqdm

        with tqdm(total=total, unit="file", file=stream, leave=False, dynamic_ncols=True) as bar:
            yield lambda path: bar.update(1)
        return
    count = itertools.count(1)
    yield lambda path: print(f"{next(count)}/{total} {path}", file=stream, flush=True)


def create_classifier(args: argparse.Namespace, environ=os.environ):
    """Load the model and its label cache from parsed --model/--pretrained/... arguments (or, with
    --engine-url, connect to the engine service serving that model)."""
    from .remote import open_classifier

    return open_classifier(
        args.model,
        args.pretrained,
        device=args.device,
        precision=args.precision,
        db_path=args.db,
        templates=args.templates or None,
        engine_url=args.engine_url,
        engine_secret=environ.get("TOONZOO_ENGINE_SECRET") or None,
    )


def warn_if_not_english(classifier, labels: Sequence[str]) -> None:
    """The warning ``/labels`` gives in the bot: labels that don't look English, for a model that reads only English."""
    if any(classifier.reads(language) for language in LANGUAGES if language != DEFAULT_LANGUAGE):
        return
    foreign = [label for label in labels if not looks_english(label)]
    if foreign:
        quoted = ", ".join(f"«{label}»" for label in foreign[:5]) + (" …" if len(foreign) > 5 else "")
        logger.warning(
            "This model reads English labels best; %s may be guessed poorly. "
            "A multilingual model reads them: --model multilingual.",
            quoted,
        )


def cmd_classify(args: argparse.Namespace) -> int:
    labels = args.labels or list(DEFAULT_LABELS)
    classifier = create_classifier(args)
    warn_if_not_english(classifier, labels)
    classifier.prepare_labels(labels, args.language)
    results = []
    with file_progress(len(args.images)) as done:
        for path in args.images:
            try:
                guesses = classifier.classify_bytes(Path(path).read_bytes(), labels, args.top_k, args.language)
                results.append({"image": path, "guesses": [{"label": g.label, "score": g.score} for g in guesses]})
            except (UserError, OSError) as exc:
                logger.info("%s: %s", path, exc)
                results.append({"image": path, "error": file_error(exc)})
            done(path)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print(format_classify_table(results))
    return 1 if any("error" in result for result in results) else 0


def file_error(exc: UserError | OSError) -> str:
    """What went wrong with a file, worded for the command line ("empty file"), not for a chat."""
    if isinstance(exc, OSError):
        return f"cannot read file: {exc.strerror or exc}"
    return getattr(exc, "file_message", exc.user_message)


def format_classify_table(results: Sequence[dict]) -> str:
    lines = []
    for result in results:
        lines.append(result["image"])
        if "error" in result:
            lines.append(f"  error: {result['error']}")
            continue
        width = max(len(g["label"]) for g in result["guesses"])
        for rank, guess in enumerate(result["guesses"], 1):
            lines.append(f"  {rank}. {guess['label']:<{width}}  {guess['score'] * 100:5.1f}%")
    return "\n".join(lines)


def collect_labelled_images(folder: Path) -> dict[str, list[Path]]:
    """``DIR/<label>/<image>`` -> ``{label: [paths]}``; underscores in folder names become spaces."""
    found: dict[str, list[Path]] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if images:
            found[sub.name.replace("_", " ")] = images
    return found


def evaluation_report(truth: Sequence[str], ranked: Sequence[Sequence[str]], labels: Sequence[str]) -> dict:
    """Accuracy figures from true labels and each image's ranked label list (pure)."""
    total = len(truth)
    top1 = sum(1 for t, r in zip(truth, ranked) if r and r[0] == t)
    top5 = sum(1 for t, r in zip(truth, ranked) if t in r[:5])
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confused: Counter = Counter()
    for t, r in zip(truth, ranked):
        per_label[t][1] += 1
        if r and r[0] == t:
            per_label[t][0] += 1
        elif r:
            confused[(t, r[0])] += 1
    return {
        "images": total,
        "labels": len(labels),
        "top1": top1 / total if total else 0.0,
        "top5": top5 / total if total else 0.0,
        "recall": {
            label: (per_label[label][0] / per_label[label][1]) if per_label[label][1] else None for label in labels
        },
        "confused": [{"true": t, "predicted": p, "count": n} for (t, p), n in confused.most_common(10)],
    }


def format_evaluation(report: dict) -> str:
    lines = [
        f"images: {report['images']}  labels: {report['labels']}  skipped: {len(report.get('skipped', []))}",
        f"top-1 accuracy: {report['top1'] * 100:.1f}%",
    ]
    if report["labels"] > TOP_K:  # with 5 labels or fewer the truth is always among the top 5
        lines.append(f"top-{TOP_K} accuracy: {report['top5'] * 100:.1f}%")
    lines += ["", "recall per label:"]
    width = max((len(label) for label in report["recall"]), default=5)
    for label, recall in sorted(report["recall"].items(), key=lambda item: (item[1] is None, item[1] or 0)):
        lines.append(f"  {label:<{width}}  " + ("no readable picture" if recall is None else f"{recall * 100:5.1f}%"))
    if report["confused"]:
        lines += ["", "most confused (true -> guessed):"]
        lines += [f"  {c['true']} -> {c['predicted']}: {c['count']}" for c in report["confused"]]
    lines += format_skipped(report.get("skipped", []))
    return "\n".join(lines)


def format_skipped(skipped: Sequence[dict]) -> list[str]:
    """The files that could not be read, and why (text output of ``evaluate``)."""
    if not skipped:
        return []
    return ["", f"skipped ({len(skipped)}):"] + [f"  {item['image']}: {item['error']}" for item in skipped]


def cmd_evaluate(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"toonzoo: {folder} is not a folder", file=sys.stderr)
        return 2
    if args.shots is None and (args.alpha is not None or args.beta is not None or args.tune):
        print("toonzoo: --alpha, --beta and --tune go with --shots K", file=sys.stderr)
        return 2
    found = collect_labelled_images(folder)
    labels = list(found)
    ignored = [
        sub.name
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and not sub.name.startswith(".") and sub.name.replace("_", " ") not in found
    ]
    if ignored:
        logger.warning("ignored folder(s) without a JPEG, PNG, WebP, GIF or BMP file: %s", ", ".join(ignored))
    if len(labels) < 2:
        print(f"toonzoo: {folder} needs at least two sub-folders of images, one per label", file=sys.stderr)
        return 2
    if args.shots is not None:
        short = {label: len(paths) for label, paths in found.items() if len(paths) <= args.shots}
        if short:
            print(
                f"toonzoo: --shots {args.shots} needs at least {args.shots + 1} pictures in each label's folder "
                f"({args.shots} to teach, at least one to evaluate on); too few in: "
                + ", ".join(f"{label} ({count})" for label, count in short.items()),
                file=sys.stderr,
            )
            return 2
    classifier = create_classifier(args)
    warn_if_not_english(classifier, labels)
    classifier.prepare_labels(labels, args.language)
    if args.shots is not None:
        return evaluate_shots(args, classifier, found)
    import torch

    truth, ranked, skipped = [], [], []
    items = [(label, path) for label, paths in found.items() for path in paths]
    with file_progress(len(items)) as done:
        for start in range(0, len(items), EVAL_BATCH):
            chunk = items[start : start + EVAL_BATCH]
            batch, pictures = [], []
            for label, path in chunk:
                try:
                    pictures.append(path.read_bytes())
                    batch.append((label, path))
                except OSError as exc:
                    skipped.append({"image": str(path), "error": file_error(exc)})
            readable, rows = [], []
            for (label, path), result in zip(batch, classifier.embed_pictures(pictures)):
                if isinstance(result, UserError):
                    skipped.append({"image": str(path), "error": file_error(result)})
                else:
                    readable.append(label)
                    rows.append(result)
            if rows:
                ranked_batch = classifier.rank(torch.stack(rows), labels, len(labels), language=args.language)
                for label, guesses in zip(readable, ranked_batch):
                    truth.append(label)
                    ranked.append([g.label for g in guesses])
            for _, path in chunk:
                done(str(path))
    if not truth:
        print(
            f"toonzoo: no readable image in {folder} ({len(skipped)} skipped; first: {skipped[0]['image']}: "
            f"{skipped[0]['error']})",
            file=sys.stderr,
        )
        return 1
    report = evaluation_report(truth, ranked, labels)
    report["skipped"] = skipped
    report["model"] = classifier.identity
    unreadable = [label for label in labels if report["recall"][label] is None]
    if unreadable:
        logger.warning("no readable picture for the label(s) %s: their recall is not measured", ", ".join(unreadable))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_evaluation(report))
    return 0


def split_shots(
    found: dict[str, list[Path]], shots: int, seed: int
) -> tuple[dict[str, list[Path]], list[tuple[str, Path]]]:
    """``shots`` drawings per label to teach (seeded; all of a label's when it has fewer), and the rest."""
    rng = random.Random(seed)
    taught: dict[str, list[Path]] = {}
    rest: list[tuple[str, Path]] = []
    for label, paths in found.items():
        chosen = set(rng.sample(paths, min(shots, len(paths))))
        taught[label] = [path for path in paths if path in chosen]
        rest += [(label, path) for path in paths if path not in chosen]
    return taught, rest


def embed_items(classifier, items: Sequence[tuple[str, Path]], skipped: list, done: Callable[[str], None]):
    """(labels, paths, ``[N, dim]`` features) of the readable images; the others go to ``skipped``."""
    import torch

    kept_labels, kept_paths, rows = [], [], []
    for start in range(0, len(items), EVAL_BATCH):
        chunk, pictures = [], []
        for label, path in items[start : start + EVAL_BATCH]:
            try:
                pictures.append(path.read_bytes())
                chunk.append((label, path))
            except OSError as exc:
                skipped.append({"image": str(path), "error": file_error(exc)})
        for (label, path), result in zip(chunk, classifier.embed_pictures(pictures)):
            if isinstance(result, UserError):
                skipped.append({"image": str(path), "error": file_error(result)})
            else:
                kept_labels.append(label)
                kept_paths.append(path)
                rows.append(result)
        for _, path in items[start : start + EVAL_BATCH]:
            done(str(path))
    return kept_labels, kept_paths, torch.stack(rows) if rows else None


def evaluate_shots(args: argparse.Namespace, classifier, found: dict[str, list[Path]]) -> int:
    """``evaluate --shots K``: teach K drawings per label, rank the rest zero-shot and taught, side by side."""
    from .few_shot import Examples, tune_blend

    labels = list(found)
    taught_paths, rest = split_shots(found, args.shots, args.seed)
    teach_items = [(label, path) for label, paths in taught_paths.items() for path in paths]
    skipped: list[dict] = []
    with file_progress(len(teach_items) + len(rest)) as done:
        teach_labels, teach_kept, keys = embed_items(classifier, teach_items, skipped, done)
        truth, _, features = embed_items(classifier, rest, skipped, done)
    if keys is None or features is None:
        print(
            f"toonzoo: {args.folder}: nothing left to evaluate on after teaching {args.shots} per label "
            f"({len(skipped)} unreadable)",
            file=sys.stderr,
        )
        return 1
    alpha = FEW_SHOT_ALPHA if args.alpha is None else args.alpha
    beta = FEW_SHOT_BETA if args.beta is None else args.beta
    tuned = None
    if args.tune:
        import torch

        targets = torch.tensor([labels.index(label) for label in teach_labels])
        grid = tune_blend(keys, targets, classifier.label_weights(labels), classifier.logit_scale)
        alpha, beta, score = grid[0]
        tuned = {"alpha": alpha, "beta": beta, "leave_one_out_top1": score, "pairs": len(grid)}
    examples = Examples(keys, teach_labels, alpha=alpha, beta=beta)
    zero_shot = classifier.rank(features, labels, top_k=len(labels), language=args.language)
    taught = classifier.rank(features, labels, top_k=len(labels), examples=examples, language=args.language)
    report = {
        "model": classifier.identity,
        "shots": args.shots,
        "seed": args.seed,
        "alpha": alpha,
        "beta": beta,
        "tuned": tuned,
        "taught_images": {
            label: [str(p) for p in teach_kept if p in set(paths)] for label, paths in taught_paths.items()
        },
        "zero_shot": evaluation_report(truth, [[g.label for g in r] for r in zero_shot], labels),
        "taught": evaluation_report(truth, [[g.label for g in r] for r in taught], labels),
        "skipped": skipped,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_shots_evaluation(report))
    return 0


def format_shots_evaluation(report: dict) -> str:
    """Zero-shot and taught accuracy side by side, and what was taught."""
    zero, taught = report["zero_shot"], report["taught"]
    count = sum(len(paths) for paths in report["taught_images"].values())
    lines = [
        f"images: {zero['images']} evaluated, {count} taught ({report['shots']} per label, seed {report['seed']})"
        f"  labels: {zero['labels']}  skipped: {len(report['skipped'])}",
    ]
    if report["tuned"]:
        tuned = report["tuned"]
        lines.append(
            f"tuned on the taught drawings (leave-one-out, {tuned['pairs']} pairs): alpha {tuned['alpha']:g}, "
            f"beta {tuned['beta']:g} (top-1 {tuned['leave_one_out_top1'] * 100:.1f}%)"
        )
    head = f"taught (alpha {report['alpha']:g}, beta {report['beta']:g})"
    lines += [
        f"{'':<16}{'zero-shot':>10}  {head}",
        f"{'top-1 accuracy':<16}{zero['top1'] * 100:>9.1f}%  {taught['top1'] * 100:>{len(head) - 1}.1f}%",
    ]
    if zero["labels"] > TOP_K:
        lines.append(
            f"{f'top-{TOP_K} accuracy':<16}{zero['top5'] * 100:>9.1f}%  {taught['top5'] * 100:>{len(head) - 1}.1f}%"
        )
    lines += ["", "taught drawings:"]
    lines += [
        f"  {label}: " + ", ".join(Path(path).name for path in paths)
        for label, paths in report["taught_images"].items()
    ]
    lines += format_skipped(report["skipped"])
    return "\n".join(lines)


def preset_rows(cached: Callable[[Preset], bool]) -> list[dict]:
    """One dict per preset for ``toonzoo models``; ``cached(preset)`` says whether its weights are local."""
    return [
        {
            "preset": preset.name,
            "model": preset.model,
            "pretrained": preset.pretrained,
            "languages": "many" if preset.multilingual else ", ".join(preset.languages),
            "download_mb": preset.download_mb,
            "image_gflops": preset.image_gflops,
            "imagenet_sketch": preset.imagenet_sketch,
            "imagenet_r": preset.imagenet_r,
            "cached": cached(preset),
            "note": preset.note,
            "default": preset.model == DEFAULT_MODEL and preset.pretrained == DEFAULT_PRETRAINED,
        }
        for preset in PRESETS
    ]


def format_models_table(rows: Sequence[dict]) -> str:
    """The presets as an aligned text table, with the source of the figures."""
    header = ("preset", "open_clip model", "weights tag", "languages", "download", "GFLOPs", "Sketch", "IN-R", "cached")
    table = [header] + [
        (
            row["preset"] + (" (default)" if row["default"] else ""),
            row["model"],
            row["pretrained"],
            row["languages"],
            f"{row['download_mb'] / 1000:.2f} GB" if row["download_mb"] >= 1000 else f"{row['download_mb']} MB",
            f"{row['image_gflops']:.1f}",
            f"{row['imagenet_sketch']:.1f}",
            f"{row['imagenet_r']:.1f}",
            "yes" if row["cached"] else "no",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    lines += [
        "",
        "GFLOPs: image encoder, per picture. Sketch / IN-R: zero-shot top-1 (%) on ImageNet-Sketch and",
        f"ImageNet-R, from open_clip's results table ({RESULTS_TABLE}).",
        *(preset.note for preset in PRESETS if preset.note),
        "cached: weights in the local Hugging Face cache (no download needed).",
        "Pick one with --model NAME or TOONZOO_MODEL=NAME.",
    ]
    return "\n".join(lines)


def cmd_models(args: argparse.Namespace) -> int:
    from .model import is_cached

    rows = preset_rows(lambda preset: is_cached(preset.model, preset.pretrained))
    print(json.dumps(rows, indent=2) if args.json else format_models_table(rows))
    return 0


def cmd_serve(args: argparse.Namespace, environ=os.environ) -> int:
    """``toonzoo serve``: the model behind HTTP on Ray Serve, until interrupted."""
    from .defaults import MAX_WAIT_MS
    from .wire import check_listen

    secret = environ.get("TOONZOO_ENGINE_SECRET") or None
    try:
        check_listen(args.host, secret)
    except ValueError as exc:
        print(f"toonzoo: {exc}", file=sys.stderr)
        return 2
    try:
        from .serve import ServiceOptions, default_torch_threads, run_service
    except ImportError as exc:
        print(f"toonzoo: 'toonzoo serve' needs Ray Serve ({exc}): pip install 'toonzoo[serve]'", file=sys.stderr)
        return 2
    options = ServiceOptions(
        model=args.model,
        pretrained=args.pretrained,
        device=args.device,
        precision=service_precision(args.precision, args.device, args.gpus_per_replica, model=args.model),
        replicas=args.replicas,
        gpus_per_replica=args.gpus_per_replica,
        max_batch=args.max_batch or int(environ.get("TOONZOO_MAX_BATCH") or 0) or None,
        max_wait_ms=args.max_wait_ms
        if args.max_wait_ms is not None
        else float(environ.get("TOONZOO_MAX_WAIT_MS") or MAX_WAIT_MS),
        secret=secret,
        torch_threads=default_torch_threads(args.replicas, args.gpus_per_replica),
    )
    run_service(options, host=args.host, port=args.port, address=args.address)
    return 0


def service_precision(
    precision: str, device: str, gpus_per_replica: float, *, measure=None, model: str | None = None
) -> str:
    """The precision every replica of ``toonzoo serve`` loads: ``auto`` on CPU replicas is measured once,
    here, so that no two replicas choose apart (int8 embeddings key a label cache of their own); GPU
    replicas resolve ``auto`` to fp16 alike."""
    if precision != "auto" or gpus_per_replica:
        return precision
    from .model import resolve_device, resolve_precision

    return resolve_precision(precision, resolve_device(device), measure=measure, model_name=model)


def cmd_tiny_model(args: argparse.Namespace) -> int:
    from .tiny import save_tiny_model, save_tiny_multilingual_model

    folder = (save_tiny_multilingual_model if args.multilingual else save_tiny_model)(args.folder)
    print(f"wrote a tiny random-weight CLIP to {folder}; use it with --model local-dir:{folder}")
    return 0


def configure_logging(verbosity: int, *, service: bool = False) -> None:
    """toonzoo's own progress at INFO with ``-v`` (always for a ``service``), DEBUG with ``-vv``;
    libraries (open_clip's root-logger notes, telegram) at WARNING unless ``-vv``."""
    logging.basicConfig(
        level=logging.INFO if verbosity >= 2 else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    own = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity or service else logging.NOTSET
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines hold the bot token


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed command; a ``UserError`` becomes one line on stderr and exit status 2.

    A reader that goes away (``toonzoo models | head -1``) ends the command quietly, the way
    Python's documentation of SIGPIPE advises: stdout is pointed at /dev/null so that the
    interpreter's last flush cannot fail again, and the exit status is 1.
    """
    try:
        try:
            return args.handler(args)
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except UserError as exc:
        logger.debug("command failed", exc_info=True)
        print(f"toonzoo: {exc.user_message}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser, _ = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbosity(args))
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
