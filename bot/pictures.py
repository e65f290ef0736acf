"""Find the picture in a Telegram message: which file to download, or why not.

Pure functions over PTB's ``Message`` objects: no network, no tensors.
"""

from dataclasses import dataclass

from telegram import Message, MessageEntity

from classifier.defaults import MAX_PICTURE_BYTES

MAX_DOWNLOAD_BYTES = MAX_PICTURE_BYTES  # Telegram's limit for bots, and the decoder's
# Document types that say nothing about the content: the bytes decide (the decoder sniffs them).
UNTYPED_MIME_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


@dataclass(frozen=True)
class PictureRef:
    """A file to download and classify."""

    file_id: str
    file_size: int | None
    kind: str  # photo, document, untyped-document, sticker, sticker-thumbnail, animation-thumbnail

    @property
    def is_typed(self) -> bool:
        """Telegram says it is a picture (an untyped document only may turn out to be one)."""
        return self.kind != "untyped-document"


@dataclass(frozen=True)
class NoPicture:
    """The message carries media we cannot read; ``reason`` names the reply to send."""

    reason: str  # unsupported-sticker, unsupported-animation, not-an-image


def find_picture(message: Message | None) -> PictureRef | NoPicture | None:
    """The best picture in ``message``; ``None`` when it carries no media at all."""
    if message is None:
        return None
    if message.photo:
        largest = message.photo[-1]
        return PictureRef(largest.file_id, largest.file_size, "photo")
    if message.sticker:
        sticker = message.sticker
        if not (sticker.is_animated or sticker.is_video):
            return PictureRef(sticker.file_id, sticker.file_size, "sticker")
        if sticker.thumbnail:
            return PictureRef(sticker.thumbnail.file_id, sticker.thumbnail.file_size, "sticker-thumbnail")
        return NoPicture("unsupported-sticker")
    if message.animation:
        thumbnail = message.animation.thumbnail
        if thumbnail:
            return PictureRef(thumbnail.file_id, thumbnail.file_size, "animation-thumbnail")
        return NoPicture("unsupported-animation")
    if message.document:
        document = message.document
        mime_type = (document.mime_type or "").lower()
        if mime_type.startswith("image/"):
            return PictureRef(document.file_id, document.file_size, "document")
        if mime_type in UNTYPED_MIME_TYPES:
            return PictureRef(document.file_id, document.file_size, "untyped-document")
        return NoPicture("not-an-image")  # video, audio, PDF, archives…: declined unread
    return None


def is_addressed_to_bot(message: Message, bot_id: int, bot_username: str | None) -> bool:
    """In a group, does this picture message ask the bot for guesses?

    Yes when its caption mentions the bot or starts with /guess, or when it
    replies to one of the bot's messages.
    """
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    caption = message.caption or ""
    first = caption.split(maxsplit=1)[0].lower() if caption.strip() else ""
    if first == "/guess" or (bot_username and first == f"/guess@{bot_username.lower()}"):
        return True
    for entity in message.caption_entities or ():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
        if (
            entity.type == MessageEntity.MENTION
            and bot_username
            and entity_text(caption, entity).lower() == f"@{bot_username.lower()}"
        ):
            return True
    return False


def entity_text(text: str, entity: MessageEntity) -> str:
    """The text an entity covers (offsets count UTF-16 code units).

    Unlike PTB's ``parse_entity`` this tolerates lone surrogates, which
    arrive in the wild and must not crash the handler.
    """
    units = text.encode("utf-16-le", "surrogatepass")
    start, end = entity.offset * 2, (entity.offset + entity.length) * 2
    return units[start:end].decode("utf-16-le", "surrogatepass")
