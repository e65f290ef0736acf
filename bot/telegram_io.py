"""Telegram reading helpers shared by the handlers and the services: the update's parts, admins, players.

No state: each takes the bot (or the message) it needs. Nothing here knows the
bot's services.
"""

import logging

from telegram import Bot, CallbackQuery, ChatMember, Message, Update

from . import replies
from .game import Player
from .i18n import Translator
from .names import clean_name

logger = logging.getLogger(__name__)


def message_of(update: Update) -> Message:
    """The update's message (every callback that asks is registered for updates that carry one)."""
    message = update.effective_message
    if message is None:
        raise ValueError(f"update {update.update_id} carries no message")
    return message


def query_of(update: Update) -> CallbackQuery:
    """The update's button press (asked by callbacks registered for presses only)."""
    query = update.callback_query
    if query is None:
        raise ValueError(f"update {update.update_id} carries no button press")
    return query


async def is_admin_now(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Whether the user is the chat's creator or an administrator, asking Telegram now."""
    member = await bot.get_chat_member(chat_id, user_id)
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


def is_member_status(member: ChatMember) -> bool:
    """Whether a chat member (as Telegram reports them) belongs to the chat."""
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER)


def player_of(t: Translator, message: Message) -> Player:
    """Who sent it: the user, an anonymous admin (all of them one player), or the channel posting."""
    chat = message.sender_chat
    if chat is not None and chat.id == message.chat_id:  # the group itself: its title names no one
        return Player(chat.id, replies.ANONYMOUS_ADMIN_NAME(t))
    if chat is not None:
        return Player(chat.id, clean_name(chat.title, t.gettext("Channel")))
    user = message.from_user
    if user is None:  # only channels' own posts have no sender, and they are no group's
        raise ValueError(f"message {message.message_id} has no sender")
    return Player(user.id, clean_name(user.first_name, t.gettext("Player")))


def named_player(t: Translator, user_id: int, first_name: str) -> Player:
    """A player known by id and first name (a canvas drawer: Telegram's signed init data names them)."""
    return Player(user_id, clean_name(first_name, t.gettext("Player")))
