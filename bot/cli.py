"""The ``toonzoo`` command: the classifier's commands plus ``run`` (the bot)."""

import sys
from collections.abc import Sequence

from classifier.cli import build_parser, configure_logging, run_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
