"""Decoding in worker processes: the same pixels as the model's own preprocessing, the same
guesses as the thread path, and no process left behind after close(), a killed worker, or SIGTERM."""

import asyncio
import dataclasses
import io
import json
import multiprocessing
import os
import signal
import sys
import threading
import time

import numpy as np
import open_clip
import pytest
import torch
from helpers.decode import sleepy
from helpers.pictures import png_bytes
from helpers.waiting import wait_until
from PIL import Image

from classifier.decode_pool import DecodePool
from classifier.engine import Engine
from classifier.errors import InferenceFailed, NotAnImage
from classifier.pipeline import ZeroShotClassifier
from classifier.pixels import pixel_plan, to_model_input

ANIMALS = ["cat", "dog", "fox", "owl"]


def jpeg(size=(1280, 960), seed=0, orientation: int | None = None, mode="RGB") -> bytes:
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize(size, Image.BILINEAR).convert(mode)
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(buffer, format="JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


PICTURES = [
    jpeg(seed=1),
    jpeg((300, 800), seed=2, orientation=6),
    jpeg((50, 40), seed=3, mode="L"),
    png_bytes((96, 72), seed=4, mode="RGBA"),
    png_bytes((200, 90), seed=5, mode="P"),
]


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (read from /proc, no psutil)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_pixel_plan_gives_the_models_preprocessing_bit_for_bit(classifier):
    plan = pixel_plan(classifier)
    assert plan is not None and plan.side == classifier.loaded.image_size
    parts = [plan.pixels(data) for data in PICTURES]
    batch = to_model_input(parts, plan, torch.device("cpu"))
    for data, row in zip(PICTURES, batch):
        assert torch.equal(row, classifier.preprocess(classifier.decode(data)))


def test_no_pixel_plan_for_unusual_preprocessing(tiny_loaded):
    class OwnDecoder(ZeroShotClassifier):
        def decode(self, data):
            return super().decode(data).rotate(90)

    assert pixel_plan(OwnDecoder(tiny_loaded)) is None
    squash = open_clip.image_transform(64, is_train=False, resize_mode="squash")
    assert pixel_plan(ZeroShotClassifier(dataclasses.replace(tiny_loaded, preprocess=squash))) is None


@pytest.mark.slow
async def test_worker_processes_give_the_thread_paths_guesses(tiny_classifier):
    labels_sets = [ANIMALS, ["red", "green", "blue"]]
    requests = [(data, labels_sets[i % 2]) for i, data in enumerate(PICTURES * 2)]
    results = {}
    for workers in (0, 2):
        async with Engine(tiny_classifier, max_batch=4, decode_workers=workers) as engine:
            assert len(engine.decode_worker_pids) == workers
            results[workers] = await asyncio.gather(*(engine.classify(d, labels, top_k=3) for d, labels in requests))
            with pytest.raises(NotAnImage) as caught:
                await engine.classify(b"not a picture at all", ANIMALS)
            assert caught.value.user_message.startswith("That doesn't look like a picture")
    # Equal up to float rounding of differently composed batches.
    for (data, labels), threaded, processes in zip(requests, results[0], results[2]):
        want = tiny_classifier.classify_bytes(data, labels, top_k=3)
        for guesses in (threaded, processes):
            assert [g.label for g in guesses] == [w.label for w in want]
            assert all(abs(g.score - w.score) < 1e-5 for g, w in zip(guesses, want))


async def test_close_leaves_no_worker_process(tiny_classifier):
    engine = Engine(tiny_classifier, decode_workers=2)
    await engine.start()
    pids = engine.decode_worker_pids
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    assert len(await engine.classify(PICTURES[0], ANIMALS)) == 3
    await engine.close()
    assert multiprocessing.active_children() == []
    assert not any(alive(pid) for pid in pids)


@pytest.mark.slow
async def test_a_killed_worker_is_replaced_and_later_pictures_go_through(tiny_classifier):
    async with Engine(tiny_classifier, decode_workers=2) as engine:
        first = engine.decode_worker_pids
        os.kill(first[0], signal.SIGKILL)
        # Whether or not the pool noticed yet, these go to a fresh pool and are answered.
        results = await asyncio.wait_for(asyncio.gather(*(engine.classify(d, ANIMALS) for d in PICTURES)), 60)
        assert all(len(r) == 3 for r in results)
        second = engine.decode_worker_pids
        assert second and not set(first) & set(second)
        assert engine.stats.errors == 0
    assert multiprocessing.active_children() == []
    assert not any(alive(pid) for pid in first + second)


@pytest.mark.slow
def test_a_picture_whose_worker_dies_twice_fails_cleanly():
    pool = DecodePool(sleepy, workers=1)
    pool.start()
    outcome: list = []
    finished = threading.Event()
    try:
        pool.submit(b"30", lambda result, error: (outcome.append((result, error)), finished.set()))
        for _ in range(2):  # killed in its first pool, then again in the fresh pool it is retried in
            wait_until(lambda: len(pool.worker_pids()) == 1, 30)
            pids = pool.worker_pids()
            time.sleep(0.5)  # the picture is in the worker
            os.kill(pids[0], signal.SIGKILL)
            wait_until(lambda pids=pids: finished.is_set() or pool.worker_pids() != pids, 30)
        assert finished.wait(30)
        ((result, error),) = outcome
        assert result is None and isinstance(error, InferenceFailed)
        assert pool.restarts == 1  # the second pool; the third starts with the next picture
        pool.submit(b"0", lambda result, error: outcome.append((result, error)))
        wait_until(lambda: len(outcome) == 2, 30)
        assert outcome[1] == (b"0", None)
        assert pool.restarts == 2
    finally:
        pool.close()
    assert multiprocessing.active_children() == []


SERVER = """
import asyncio, json, signal, sys
from classifier.engine import Engine
from classifier.pipeline import load_classifier

async def main(model, graceful):
    classifier = load_classifier(model, None, device="cpu", precision="fp32", db_path=sys.argv[3] + ".db")
    engine = Engine(classifier, decode_workers=2)
    await engine.start()
    await engine.classify(open(sys.argv[3], "rb").read(), ["cat", "dog"])
    stop = asyncio.Event()
    if graceful:  # as python-telegram-bot's run_polling does: SIGTERM stops the application, post_shutdown closes
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(json.dumps(engine.decode_worker_pids), flush=True)
    await stop.wait()
    await engine.close()
    import multiprocessing
    print(json.dumps([p.pid for p in multiprocessing.active_children()]), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2] == "graceful"))
"""


@pytest.mark.parametrize("mode", ["graceful", "killed"])
@pytest.mark.slow
def test_sigterm_of_the_serving_process_leaves_no_worker(mode, tiny_model_name, tmp_path):
    picture = tmp_path / "p.jpg"
    picture.write_bytes(PICTURES[0])
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, tiny_model_name, mode, str(picture)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        pids = json.loads(server.stdout.readline() or "null")
        assert pids and len(pids) == 2 and all(alive(pid) for pid in pids), server.stderr.read()
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    finally:
        server.kill()
    if mode == "graceful":
        assert server.returncode == 0, err
        assert json.loads(out) == []
    else:
        assert server.returncode == -signal.SIGTERM  # died at once: nobody closed the pool
    wait_until(lambda: not any(alive(pid) for pid in pids), 10, "the decode workers' exit with their parent")


def decode_workers_of(pid: int) -> list[int]:
    """Child processes of ``pid`` that run a multiprocessing worker (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry))
    return found


@pytest.mark.slow
async def test_the_bot_with_decode_workers_stops_them_on_sigterm(tmp_path, tiny_model_name):
    from helpers.run import serving_env, start_run

    from toonzoo_tools.fake_bot_api import FakeBotApi

    async with FakeBotApi() as fake:
        ada = fake.add_user("Ada")
        chat = fake.add_private_chat(ada)
        process = await start_run(serving_env(fake, tmp_path, tiny_model_name, TOONZOO_DECODE_WORKERS="2"))
        try:
            await fake.wait_for("setMyCommands", timeout=90)
            fake.send_photo(chat, ada, png_bytes())
            reply = await fake.wait_for("sendMessage", timeout=30)
            assert reply["text"].count("%") == 3
            workers = decode_workers_of(process.pid)
            assert len(workers) == 2
        finally:
            process.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(process.communicate(), 60)
    log = out.decode()
    assert process.returncode == 0, log
    assert "decode: 2 processes" in log and "Traceback" not in log
    assert not any(alive(pid) for pid in workers)
