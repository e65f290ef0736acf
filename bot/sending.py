"""The bot's side of the Bot API: one ``ExtBot`` through which every text is fitted to Telegram's limits.

Handlers and the game send with ``reply_text``, ``send_message``,
``edit_message_text`` and ``CallbackQuery.answer``; all of them end up here,
so no text can be refused as too long after the work it reports was done.
Its rate limiter is ``bot.outbox.BudgetLimiter``: groups' messages are planned
within their budget (``bot.budget``); inside it, PTB's ``AIORateLimiter`` keeps
the overall 30 messages a second and retries a 429, with its per-group bucket off.
"""

import logging

from telegram.ext import AIORateLimiter, Defaults, ExtBot
from telegram.request import HTTPXRequest

from .budget import Budgets
from .config import Settings
from .outbox import BudgetLimiter
from .replies import ALERT_LIMIT, fit_text

logger = logging.getLogger(__name__)

CONNECTION_POOL_SIZE = 256  # what ApplicationBuilder gives a bot by default


class FittingBot(ExtBot):
    """An ``ExtBot`` that cuts texts to Telegram's limits (see ``replies.fit_text``)."""

    async def send_message(self, chat_id, text, *args, **kwargs):
        """``ExtBot.send_message`` with the text fitted to 4096 characters."""
        return await super().send_message(chat_id, _fitted(text), *args, **kwargs)

    async def edit_message_text(self, text, *args, **kwargs):
        """``ExtBot.edit_message_text`` with the text fitted to 4096 characters."""
        return await super().edit_message_text(_fitted(text), *args, **kwargs)

    async def answer_callback_query(self, callback_query_id, text=None, *args, **kwargs):
        """``ExtBot.answer_callback_query`` with the alert fitted to 200 characters."""
        return await super().answer_callback_query(callback_query_id, _fitted(text, ALERT_LIMIT), *args, **kwargs)


def build_bot(settings: Settings, budgets: Budgets | None = None) -> FittingBot:
    """The bot for ``ApplicationBuilder.bot``: the settings' token and URLs, defaults, and
    the rate limiter that keeps each group within its budget."""
    return FittingBot(
        token=settings.token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        defaults=Defaults(do_quote=True, allow_sending_without_reply=True),
        # AIORateLimiter's per-group bucket is off (group_max_rate=0): it would queue a
        # group's messages without telling a round announcement from a verdict, and it
        # lets 38 into a group in the first minute where Telegram counts 20.
        rate_limiter=BudgetLimiter(budgets or Budgets(), AIORateLimiter(group_max_rate=0, max_retries=3)),
        request=HTTPXRequest(connection_pool_size=CONNECTION_POOL_SIZE),
        get_updates_request=HTTPXRequest(),
    )


def _fitted(text, limit: int | None = None):
    if not isinstance(text, str):
        return text
    fitted = fit_text(text) if limit is None else fit_text(text, limit)
    if fitted != text:
        logger.warning("text of %d characters cut to fit Telegram's limit", len(text))
    return fitted
