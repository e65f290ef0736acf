"""``toonzoo`` commands in processes of their own, forked from one warm interpreter.

A shell starts ``toonzoo`` in a new interpreter, which imports torch, torchvision and
open_clip: about 5 s of CPU before the command does anything, most of the suite's CPU.
Tests of what a user sees from a command (exit status, stdout, stderr) run it here
instead: each command is still a process of its own, with its own environment, working
folder, logging set-up and exit status, forked from a forkserver that imported those
libraries once per test worker (a fraction of a second per command).

What a forked process cannot show, tests that start a real interpreter show: settings
read when a library is imported (``HF_HUB_OFFLINE``, ``HF_HUB_CACHE``, ``HF_ENDPOINT``),
the console script, signals, a closed pipe.
"""

import asyncio
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
import weakref
from pathlib import Path

# Imported once in the forkserver; a command imports the rest of what it needs itself.
PRELOAD = ["torch", "torchvision", "open_clip", "PIL.Image", "bot.cli", "classifier.cli", "classifier.model"]
# Read when huggingface_hub is imported: the forkserver's values hold for every command forked from it.
IMPORT_TIME_SETTINGS = {"HF_HUB_OFFLINE": "1"}

_context: multiprocessing.context.ForkServerContext | None = None


def _forkserver() -> multiprocessing.context.ForkServerContext:
    global _context
    if _context is None:
        saved = {name: os.environ.get(name) for name in IMPORT_TIME_SETTINGS}
        os.environ.update(IMPORT_TIME_SETTINGS)  # the forkserver starts with this process's environment
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            from multiprocessing import forkserver

            forkserver.ensure_running()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        _context = context
    return _context


def _command(argv: list[str], env: dict[str, str], cwd: str, out_path: str, err_path: str) -> None:
    """In the forked process: the command's environment, folder and output files, then ``toonzoo``."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    with open(out_path, "w") as out, open(err_path, "a") as err, open(os.devnull) as nothing:
        os.dup2(nothing.fileno(), 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)  # the same file as stdout when asked for both together
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own streams, open until it ends
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - by lines: others read it live
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.argv = ["toonzoo", *argv]
    try:
        from bot.cli import main

        code = main(argv)
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001 - as an interpreter would: the traceback on stderr, status 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


class Started:
    """A ``toonzoo`` command running in a process of its own (see the module), as ``subprocess.Popen``
    gives one: its pid, signals, its exit status, and what it printed so far (stdout and, ``together``,
    stderr in one file)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, together: bool):
        folder = tempfile.mkdtemp(prefix="toonzoo-command-")
        weakref.finalize(self, shutil.rmtree, folder, True)
        self.args = ["toonzoo", *argv]
        self.out_path = Path(folder) / "stdout"
        self.err_path = self.out_path if together else Path(folder) / "stderr"
        self._process = _forkserver().Process(
            target=_command, args=(argv, env, cwd, str(self.out_path), str(self.err_path))
        )
        self._process.start()
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, signal_number: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signal_number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self._process.exitcode

    def output(self) -> str:
        """What it wrote to stdout so far (and stderr, ``together``)."""
        return self.out_path.read_text() if self.out_path.exists() else ""

    def errors(self) -> str:
        return self.err_path.read_text() if self.err_path.exists() else ""

    async def communicate(self) -> tuple[bytes, bytes | None]:
        """As ``asyncio.subprocess.Process.communicate``: wait for the end (in a thread), then the output."""
        await asyncio.to_thread(self._process.join)
        together = self.err_path == self.out_path
        return self.out_path.read_bytes(), None if together else self.err_path.read_bytes()


def start(
    *argv: str, env: dict[str, str] | None = None, cwd: str | Path | None = None, together: bool = False
) -> Started:
    """``toonzoo *argv`` started in a process of its own; see :class:`Started`."""
    environment = dict(os.environ if env is None else env)
    for name, value in IMPORT_TIME_SETTINGS.items():
        if environment.get(name, value) != value:
            raise ValueError(f"{name} is read at import: run a real interpreter for {name}={environment[name]}")
    return Started(list(argv), environment, str(cwd or os.getcwd()), together)


def toonzoo(
    *argv: str,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 180,
    together: bool = False,
) -> subprocess.CompletedProcess:
    """``toonzoo *argv`` to its end in a process of its own (see the module); its exit status, stdout and
    stderr (``together``: stderr written into stdout, as ``2>&1``)."""
    started = start(*argv, env=env, cwd=cwd, together=together)
    try:
        code = started.wait(timeout)
    except subprocess.TimeoutExpired:
        started.kill()
        started.wait()
        raise
    return subprocess.CompletedProcess(started.args, code, started.output(), None if together else started.errors())
