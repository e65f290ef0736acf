"""Errors that carry a message fit for a user, and the classifier's own.

``str(error)`` is the detailed message for logs; ``error.user_message`` is the
short sentence a bot or CLI shows to the person who caused it (or who waits for
the answer). Boundaries (the bot's handlers, the command line) catch
:class:`UserError`: the bot's ``LabelsError`` and ``GameError`` derive from it too.
"""

from .defaults import MAX_PICTURE_BYTES, MAX_PICTURE_PIXELS


class UserError(Exception):
    """Base class of every error whose ``user_message`` is shown instead of a traceback."""

    user_message = "Something went wrong."

    def __init__(self, detail: str | None = None, *, user_message: str | None = None):
        if user_message is not None:
            self.user_message = user_message
        super().__init__(detail or self.user_message)


class ClassifierError(UserError):
    """Base class: something the classifier could not do."""

    user_message = "Something went wrong while looking at that picture."


class ImageError(ClassifierError):
    """The bytes given are not a picture we can read.

    ``file_message`` says the same of a file on the command line ("empty file"), where
    ``user_message`` speaks to someone in a chat ("Send a JPEG, …").
    """

    user_message = "I couldn't read that picture."
    file_message = "not a readable picture"

    def __init__(self, detail: str | None = None, *, user_message: str | None = None, file_message: str | None = None):
        super().__init__(detail, user_message=user_message)
        if file_message is not None:
            self.file_message = file_message


class ImageTooLarge(ImageError):
    user_message = f"That file is too big: send a picture under {MAX_PICTURE_BYTES // 2**20} MB."
    file_message = f"file over {MAX_PICTURE_BYTES // 2**20} MB"


class ImageTooManyPixels(ImageError):
    user_message = f"That picture has too many pixels: send one under {MAX_PICTURE_PIXELS // 10**6} megapixels."
    file_message = f"picture over {MAX_PICTURE_PIXELS // 10**6} megapixels"


class NotAnImage(ImageError):
    user_message = "That doesn't look like a picture. Send a JPEG, PNG, WebP, GIF or BMP."
    file_message = "not a JPEG, PNG, WebP, GIF or BMP file"


class CorruptImage(ImageError):
    user_message = "That picture seems damaged or cut off. Could you send it again?"
    file_message = "damaged or cut-off picture"


class ImageTooSmall(ImageError):
    user_message = "That picture is too small to see anything. Send a bigger one."
    file_message = "picture too small"


class ModelLoadError(ClassifierError):
    """The model or its weights could not be loaded."""

    user_message = "The drawing model could not be loaded."


class WeightsUnavailable(ModelLoadError):
    """Weights are neither cached nor downloadable (offline, unknown tag, missing file)."""


class DatabaseUnavailable(ClassifierError):
    """The SQLite file (--db / TOONZOO_DB) cannot be opened or is not a database."""

    user_message = "The database could not be opened."


class EngineBusy(ClassifierError):
    user_message = "I'm busy with lots of drawings right now. Try again in a moment."


class EngineClosed(ClassifierError):
    user_message = "I'm restarting. Try again in a moment."


class InferenceFailed(ClassifierError):
    """Decoding or the forward pass for a batch raised unexpectedly; every request in it gets this."""


class EngineUnavailable(ClassifierError):
    """The engine service (``TOONZOO_ENGINE_URL``) cannot be used: down, refusing this client, or another model.

    Raised when connecting (bot start, ``classify``, ``evaluate``); its ``user_message`` is one line for
    the operator. Once connected, failures of the service reach a chat as :class:`EngineBusy`.
    """

    user_message = "The engine service cannot be reached."
