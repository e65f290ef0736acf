"""Engine tests' tools: the real classifier behind a gate the test opens, and comparing guesses."""

import asyncio
import threading

from classifier.pipeline import ZeroShotClassifier

ANIMALS = ["cat", "dog", "fox"]


def assert_same_guesses(got, want, tol=1e-5):
    assert len(got) == len(want)
    assert {g.label for g in got} == {w.label for w in want}
    want_scores = {w.label: w.score for w in want}
    for guess in got:
        assert abs(guess.score - want_scores[guess.label]) <= tol, (guess, want_scores)
    assert [g.score for g in got] == sorted((g.score for g in got), reverse=True)


class GatedClassifier(ZeroShotClassifier):
    """The real classifier, but each forward pass waits for ``gate``: tests decide when the model runs."""

    def __init__(self, loaded):
        super().__init__(loaded)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.batch_sizes: list[int] = []

    def embed_images(self, pixels):
        self.batch_sizes.append(len(pixels))
        self.entered.set()
        if not self.gate.wait(10):
            raise TimeoutError("the test never opened the gate")
        return super().embed_images(pixels)


async def hold_first_batch(engine, classifier, image, labels):
    """Start one request and wait until its forward pass is blocked on the gate."""
    task = asyncio.create_task(engine.classify(image, labels, top_k=len(labels)))
    assert await asyncio.to_thread(classifier.entered.wait, 5)
    return task
