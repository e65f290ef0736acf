"""find_picture: which documents are worth downloading."""

import datetime as dtm

import pytest
from telegram import Chat, Document, Message

from bot.pictures import NoPicture, PictureRef, find_picture


def document_message(mime_type: str | None) -> Message:
    document = Document("file-id", "unique-id", file_name="upload", mime_type=mime_type, file_size=100)
    return Message(1, dtm.datetime.now(dtm.UTC), Chat(1, Chat.PRIVATE), document=document)


@pytest.mark.parametrize("mime_type", ["image/png", "IMAGE/JPEG"])
def test_image_documents_are_typed_pictures(mime_type):
    found = find_picture(document_message(mime_type))
    assert isinstance(found, PictureRef) and found.is_typed


@pytest.mark.parametrize("mime_type", ["application/octet-stream", "", None])
def test_untyped_documents_are_downloaded_and_sniffed(mime_type):
    found = find_picture(document_message(mime_type))
    assert isinstance(found, PictureRef) and found.kind == "untyped-document" and not found.is_typed


@pytest.mark.parametrize("mime_type", ["video/mp4", "audio/mpeg", "application/pdf", "application/zip", "text/plain"])
def test_documents_of_another_kind_are_declined_unread(mime_type):
    assert find_picture(document_message(mime_type)) == NoPicture("not-an-image")
