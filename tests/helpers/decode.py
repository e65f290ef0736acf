"""Conversions for DecodePool tests, in a module light enough for a worker process to import."""

import time


def sleepy(data: bytes) -> bytes:
    """Takes as many seconds as ``data`` says: keeps a worker busy while a test kills it."""
    time.sleep(float(data))
    return data
