"""The ``toonzoo`` command: the classifier's commands plus ``run`` (the bot)."""

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from classifier.cli import build_parser, configure_logging, run_command
from classifier.defaults import PRECISIONS

from .config import ConfigError, Settings

logger = logging.getLogger(__name__)


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


def add_run_command(parser: argparse.ArgumentParser) -> None:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    run = commands.add_parser("run", help="start the Telegram bot (settings from the environment)")
    run.add_argument("--model", help="overrides TOONZOO_MODEL")
    run.add_argument("--pretrained", help="overrides TOONZOO_PRETRAINED")
    run.add_argument("--precision", choices=PRECISIONS, help="overrides TOONZOO_PRECISION")
    run.add_argument("--device", help="overrides TOONZOO_DEVICE")
    run.add_argument("--db", help="overrides TOONZOO_DB")
    run.add_argument("--webhook-url", help="serve a webhook at this https URL instead of long polling")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from .app import run

    try:
        settings = Settings.from_env(os.environ)
        overrides = {
            "model": args.model, "pretrained": args.pretrained, "precision": args.precision,
            "device": args.device, "db_path": args.db, "webhook_url": args.webhook_url,
        }
        settings = settings.replace(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        print(f"toonzoo: {exc}", file=sys.stderr)
        return 2
    install_redaction(settings.token, settings.webhook_secret)
    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    logger.info("starting with %r", settings)
    run(settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    add_run_command(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
