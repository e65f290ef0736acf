"""The ``toonzoo`` command: the classifier's commands plus ``run`` (the bot)."""

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from classifier import cli as classifier_cli
from classifier.cli import AddCommand, configure_logging, run_command, verbosity
from classifier.defaults import PRECISIONS
from classifier.errors import ClassifierError
from classifier.presets import default_pretrained

from .config import ConfigError, Settings
from .game import GameRules

logger = logging.getLogger(__name__)

TRY_HOST, TRY_PORT = "127.0.0.1", 8765
TRY_PACKS = ("animals", "quickdraw")  # bot.packs' packs but "chat" (the local chat's own labels are --labels)
TRY_MIN_SECONDS = 1  # the solo race's rounds may be shorter than /game's 15 s (a quick look, tests)


class RedactSecrets(logging.Filter):
    """Replace the bot token (and webhook secret) in every log record."""

    def __init__(self, *secrets: str | None):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "<token>")
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if any(secret in text for secret in self.secrets):
                for secret in self.secrets:
                    text = text.replace(secret, "<token>")
                redacted = f"{redacted}\n{text}"
                record.exc_info = None
                record.exc_text = None
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_redaction(*secrets: str | None) -> None:
    """Attach the filter to every root handler, so no library can log the token."""
    redactor = RedactSecrets(*secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)


def mask_token(token: str) -> str:
    """``123456789:AAH…secret`` -> ``123456789:…``: the bot id is public, the rest is the secret."""
    return token.split(":", 1)[0] + ":…"


def add_run_command(add_command: AddCommand) -> None:
    """Add ``toonzoo run`` (a ``build_parser`` extension)."""
    run = add_command("run", help="start the Telegram bot (settings from the environment)")
    run.add_argument("--model", help="overrides TOONZOO_MODEL (a preset such as drawings, or an open_clip name)")
    run.add_argument("--pretrained", help="overrides TOONZOO_PRETRAINED (default: the preset's tag, else openai)")
    run.add_argument("--precision", choices=PRECISIONS, help="overrides TOONZOO_PRECISION")
    run.add_argument("--device", help="overrides TOONZOO_DEVICE")
    run.add_argument("--db", help="overrides TOONZOO_DB")
    run.add_argument("--webhook-url", help="serve a webhook at this https URL instead of long polling")
    engine = run.add_argument_group("engine")
    engine.add_argument("--max-batch", type=int, metavar="N", help="pictures per forward pass (TOONZOO_MAX_BATCH)")
    engine.add_argument(
        "--max-wait-ms",
        type=float,
        metavar="MS",
        help="wait for more pictures after a batch's first (TOONZOO_MAX_WAIT_MS)",
    )
    engine.add_argument(
        "--max-queue",
        type=int,
        metavar="N",
        help="pictures waiting before new ones are refused as busy (TOONZOO_MAX_QUEUE)",
    )
    engine.add_argument(
        "--decode-workers",
        type=int,
        metavar="N",
        help="decoding processes; 0 decodes in one thread (TOONZOO_DECODE_WORKERS)",
    )
    run.set_defaults(handler=cmd_run)


def add_try_command(add_command: AddCommand) -> None:
    """Add ``toonzoo try`` (a ``build_parser`` extension): the canvas on this computer, no Telegram."""
    try_ = add_command("try", help="draw on the canvas in your browser, on this computer: no Telegram, no token")
    try_.add_argument("--port", type=port_number, default=TRY_PORT, help="port to listen on (default %(default)s)")
    try_.add_argument(
        "--host",
        default=TRY_HOST,
        help="address to listen on (default %(default)s: this computer only); any other needs the access key "
        "printed at start",
    )
    try_.add_argument("--no-browser", action="store_true", help="print the address without opening a browser")
    which = try_.add_mutually_exclusive_group()
    which.add_argument("--labels", metavar="A,B,...", help="the labels to guess between (kept in --db)")
    which.add_argument("--pack", choices=TRY_PACKS, help="guess between a word pack's words (kept in --db)")
    rules = GameRules()
    try_.add_argument(
        "--rounds",
        type=bounded(rules.min_rounds, rules.max_rounds),
        default=rules.solo_rounds,
        metavar="N",
        help="drawings in a solo race (default %(default)s)",
    )
    try_.add_argument(
        "--seconds",
        type=bounded(TRY_MIN_SECONDS, int(rules.max_seconds)),
        default=rules.solo_seconds,
        metavar="S",
        help="seconds to draw each (default %(default)s)",
    )
    classifier_cli.add_model_arguments(try_)
    try_.set_defaults(handler=cmd_try)


def bounded(least: int, most: int) -> Callable[[str], int]:
    """argparse type: a whole number from ``least`` to ``most``."""

    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"must be between {least} and {most}, not {value}")
        return value

    return number


def port_number(text: str) -> int:
    """argparse type of ``--port``: 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {value}")
    return value


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The whole ``toonzoo`` command line and its commands by name."""
    return classifier_cli.build_parser(add_run_command, add_try_command)


def cmd_run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env(os.environ)
        overrides = {
            "model": args.model,
            "pretrained": args.pretrained,
            "precision": args.precision,
            "device": args.device,
            "db_path": args.db,
            "webhook_url": args.webhook_url,
            "max_batch": args.max_batch,
            "max_wait_ms": args.max_wait_ms,
            "max_queue": args.max_queue,
            "decode_workers": args.decode_workers,
        }
        if args.model and not args.pretrained and not os.environ.get("TOONZOO_PRETRAINED", "").strip():
            overrides["pretrained"] = default_pretrained(args.model)  # --model drawings: drawings' weights
        settings = settings.replace(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        print(f"toonzoo: {exc}", file=sys.stderr)
        return 2
    install_redaction(settings.token, settings.webhook_secret)
    logger.info("starting with %r", settings)
    from telegram.error import InvalidToken, NetworkError  # after the settings: a wrong one answers at once

    from .app import run

    try:
        run(settings)
    except InvalidToken:
        print(
            f"toonzoo: Telegram rejected the bot token {mask_token(settings.token)} (TELEGRAM_BOT_TOKEN): "
            "check it, or get a new one from @BotFather.",
            file=sys.stderr,
        )
        return 2
    except NetworkError as exc:
        reason = " ".join(str(exc).replace(settings.token, "<token>").split())
        print(
            f"toonzoo: cannot reach the Telegram Bot API at {settings.api_url} ({reason}): check the network "
            "or TELEGRAM_BOT_API_URL.",
            file=sys.stderr,
        )
        return 1
    except ClassifierError:
        raise  # one line from run_command
    except Exception:
        logger.exception("the bot stopped on an unexpected error")  # the log filter hides the token
        return 1
    return 0


def cmd_try(args: argparse.Namespace) -> int:
    from .app import run_local

    try:
        run_local(
            args.model,
            args.pretrained,
            device=args.device,
            precision=args.precision,
            db_path=args.db,
            host=args.host,
            port=args.port,
            labels=args.labels,
            pack=args.pack,
            rounds=args.rounds,
            seconds=args.seconds,
            open_browser=not args.no_browser,
            engine_url=args.engine_url,
            engine_secret=os.environ.get("TOONZOO_ENGINE_SECRET") or None,
        )
    except OSError as exc:  # the port is taken, or the address is not this computer's
        print(
            f"toonzoo: cannot listen on {args.host}:{args.port} ({exc.strerror or exc}): try another --port",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:  # before the server was up
        return 130
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, _ = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbosity(args), service=args.command == "run")
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
