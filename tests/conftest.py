"""Shared fixtures: a tiny random-weight CLIP built through open_clip's real factory.

The tiny model is saved once per test session as a ``local-dir:`` folder and
loaded exactly as production loads weights (``classifier.model.load_model``).
Tests never touch the network.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The suite runs in fp32 whatever this CPU's fastest precision is (tests/test_precision.py covers auto):
# the CLI and the bot in subprocesses read this; in-process loads get the fixture below.
os.environ.setdefault("TOONZOO_PRECISION", "fp32")

import pytest

pytest_plugins = ["pytester"]  # tests/test_fake_bot_api.py runs the fake fixture in a test session of its own


@pytest.fixture(autouse=True)
def _auto_precision_is_fp32(monkeypatch):
    """``precision="auto"`` resolves as on a CPU where nothing beats fp32: no start-up probe in tests."""
    from classifier import precision

    monkeypatch.setattr(precision, "_measured_gflops", lambda: {"fp32": 100.0})


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from classifier.tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_model_name(tiny_model_dir):
    """The value a user would pass as --model / TOONZOO_MODEL."""
    return f"local-dir:{tiny_model_dir}"


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model_name):
    from classifier.model import load_model

    return load_model(tiny_model_name, device="cpu", precision="fp32")


@pytest.fixture(scope="session")
def tiny_multilingual_dir(tmp_path_factory):
    """A tiny CLIP with a Hugging Face XLM-RoBERTa text tower and a locally trained tokenizer."""
    from classifier.tiny import save_tiny_multilingual_model

    return save_tiny_multilingual_model(tmp_path_factory.mktemp("tiny-multilingual-clip"))


@pytest.fixture(scope="session")
def tiny_multilingual_loaded(tiny_multilingual_dir):
    from classifier.model import load_model

    return load_model(f"local-dir:{tiny_multilingual_dir}", device="cpu", precision="fp32")


@pytest.fixture(params=[None, 224], ids=["tiny-64px", "vit-b-32-224px"])
def classifier(request, tiny_loaded):
    """The tiny model with its own preprocessing, and with ViT-B/32's (224 px, bicubic): the decoding tests."""
    import dataclasses

    import open_clip

    from classifier.pipeline import ZeroShotClassifier

    loaded = tiny_loaded
    if request.param:
        loaded = dataclasses.replace(
            tiny_loaded, preprocess=open_clip.image_transform(request.param, is_train=False), image_size=request.param
        )
    return ZeroShotClassifier(loaded)


@pytest.fixture
def tiny_classifier(tiny_loaded):
    """A fresh classifier (empty in-memory label cache) around the shared tiny model."""
    from classifier.pipeline import ZeroShotClassifier

    return ZeroShotClassifier(tiny_loaded)


CALL_PASSED = pytest.StashKey[bool]()


def pytest_configure(config):
    config.addinivalue_line("markers", "fake_bot_api(**kwargs): arguments for the FakeBotApi of the fake fixture")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether the test body passed, for fixtures that check more at teardown."""
    report = yield
    if report.when == "call":
        item.stash[CALL_PASSED] = report.passed
    return report


@pytest.fixture
async def fake(request):
    """A fresh local fake Telegram Bot API server (toonzoo_tools/fake_bot_api/).

    ``@pytest.mark.fake_bot_api(group_limit=3, …)`` passes arguments to it. At
    teardown (the bot has stopped by then) a test that passed fails if the bot
    sent a message that no wait or lookup showed it (``check_examined``).
    """
    from toonzoo_tools.fake_bot_api import FakeBotApi

    marker = request.node.get_closest_marker("fake_bot_api")
    async with FakeBotApi(**(marker.kwargs if marker else {})) as server:
        yield server
    if request.node.stash.get(CALL_PASSED, False):
        server.check_examined()


@pytest.fixture
def db_path(tmp_path):
    """A fresh database file per test."""
    return tmp_path / "toonzoo.db"


@pytest.fixture
def store():
    """The bot's store over a fresh, migrated in-memory database."""
    from sqlite_utils import Database

    from bot.store import Store

    store = Store(Database(memory=True))
    store.migrate()
    yield store
    store.close()


def pytest_collection_modifyitems(config, items):
    """Tests marked slow first (in their order), then the rest: with ``-n``, the seconds-long ones start while
    every worker still has short tests to take, so none of them is left running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
