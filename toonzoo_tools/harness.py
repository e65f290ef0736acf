"""Run the real bot (PTB Application, HTTP stack, polling) against FakeBotApi, for tests and load tools."""

import asyncio
import contextlib
import datetime
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings

from .fake_bot_api import FakeBotApi

# Work a handler schedules this soon counts as part of handling the update: an album's
# collection (ALBUM_WAIT_S, 1 s), a reply the outbox paces. A game's round timers, due
# later, do not: a test that means them watches for them (expect_no_call(within=…)).
SETTLE_HORIZON_S = 1.5
SETTLE_TIMEOUT_S = 30.0
_POLL_S = 0.005


def settings_for(fake: FakeBotApi, db_path: Path, **overrides) -> Settings:
    return Settings(token=fake.token, api_url=fake.base_url, db_path=db_path, **overrides)


@contextlib.asynccontextmanager
async def running_bot(fake: FakeBotApi, settings: Settings, classifier, build=build_application):
    """Start the bot polling the fake server; stop it cleanly afterwards.

    While it runs, ``fake.expect_no_call`` waits until the bot has settled (``settled``).
    """
    application = build(settings, classifier)
    running_jobs = _count_running_jobs(application)
    async with application:  # initialize (getMe) ... shutdown
        await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        fake.settle_with(lambda: settled(fake, application, running_jobs))
        try:
            yield application
        finally:
            fake.settle_with(None)
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)


async def settled(
    fake: FakeBotApi,
    application: Application,
    running_jobs: "_RunningJobs",
    horizon: float = SETTLE_HORIZON_S,
    timeout: float = SETTLE_TIMEOUT_S,
) -> None:
    """Return once the bot has done what the updates sent so far asked of it.

    That is: the fake holds no update the bot has not confirmed (the updater confirms
    a batch with its next getUpdates, after queueing it), PTB's update queue is joined
    (``task_done`` comes after an update's handlers return, concurrent updates too),
    and no JobQueue job is running or due within ``horizon`` seconds.
    """
    queue = application.update_queue
    due: float | None = None
    try:
        async with asyncio.timeout(timeout):
            while True:
                if fake.pending_updates:
                    await asyncio.sleep(_POLL_S)
                    continue
                await queue.join()
                due = _next_job_due_in(application)
                if running_jobs.count or (due is not None and due <= horizon):
                    await asyncio.sleep(max(_POLL_S, min(due or 0.0, horizon)))
                    continue
                if not fake.pending_updates and queue.empty():
                    return
    except TimeoutError:
        raise AssertionError(
            f"the bot did not settle within {timeout} s: {len(fake.pending_updates)} update(s) unconfirmed, "
            f"{queue.qsize()} queued, {running_jobs.count} job(s) running, next job due in {due} s"
        ) from None


class _RunningJobs:
    """JobQueue jobs submitted to APScheduler's executor and not finished yet."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, event: JobEvent) -> None:
        self.count += 1 if event.code == EVENT_JOB_SUBMITTED else -1


def _count_running_jobs(application: Application) -> _RunningJobs:
    running = _RunningJobs()
    if application.job_queue is not None:
        application.job_queue.scheduler.add_listener(
            running, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )
    return running


def _next_job_due_in(application: Application) -> float | None:
    """Seconds until the next scheduled job runs (negative when overdue), None without one."""
    if application.job_queue is None:
        return None
    now = datetime.datetime.now(datetime.UTC)
    times = [job.next_t for job in application.job_queue.jobs() if job.next_t is not None]
    return min((t - now).total_seconds() for t in times) if times else None
