"""Read what a JPEG's header says, without decoding it: which pictures the GPU decoder may take.

Pure functions over bytes (no I/O, no torch). :func:`read_header` walks the
markers up to the first scan: size, colour components, coding process and
EXIF orientation. :func:`gpu_fallback_reason` says why a picture must take the
CPU path (Pillow), or ``None`` when nvJPEG can decode it and the GPU code can
finish it exactly as the CPU path would.
"""

import struct
from dataclasses import dataclass

from .defaults import MAX_PICTURE_BYTES, MAX_PICTURE_PIXELS

SOI = b"\xff\xd8"
BASELINE_SOF = (0xC0, 0xC1)  # baseline and extended sequential Huffman: what nvJPEG decodes
PROGRESSIVE_SOF = (0xC2,)
OTHER_SOF = (0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)  # lossless, hierarchical, arithmetic
STANDALONE = {0x01, *range(0xD0, 0xD8)}  # markers without a length
SOS, EOI, APP1 = 0xDA, 0xD9, 0xE1
EXIF_ORIENTATION_TAG = 0x0112
EOI_MARKER = b"\xff\xd9"
TAIL = 64  # the end-of-image marker is looked for this near the end (some writers pad after it)


@dataclass(frozen=True)
class JpegHeader:
    """What the markers before the first scan say (orientation 1 when there is no EXIF block)."""

    width: int
    height: int
    components: int
    precision: int
    sof: int  # the frame marker: 0xC0 baseline, 0xC2 progressive, ...
    orientation: int | None  # EXIF orientation 1-8; None when an EXIF block is there but unreadable


def is_jpeg(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


def read_header(data: bytes) -> JpegHeader | None:
    """The header of a JPEG, or None when ``data`` is not one or its markers are broken."""
    if not is_jpeg(data):
        return None
    orientation: int | None = 1
    frame: tuple[int, int, int, int, int] | None = None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in STANDALONE:
            pos += 2
            continue
        if marker in (SOS, EOI):
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segment = data[pos + 4 : pos + 2 + length]
        if length < 2 or len(segment) != length - 2:
            return None
        if marker == APP1 and segment.startswith(b"Exif\x00\x00") and orientation == 1:
            orientation = exif_orientation(segment[6:])
        elif marker in BASELINE_SOF + PROGRESSIVE_SOF + OTHER_SOF and frame is None:
            if len(segment) < 6:
                return None
            precision, height, width, components = struct.unpack(">BHHB", segment[:6])
            frame = (width, height, components, precision, marker)
        pos += 2 + length
    if frame is None:
        return None
    width, height, components, precision, sof = frame
    return JpegHeader(width, height, components, precision, sof, orientation)


def exif_orientation(tiff: bytes) -> int | None:
    """The orientation tag of IFD0 in a TIFF block (1 when absent); None when the block is unreadable."""
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        return None
    try:
        (ifd,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
        for index in range(count):
            entry = tiff[ifd + 2 + 12 * index : ifd + 14 + 12 * index]
            tag, kind, _, value = struct.unpack(order + "HHI4s", entry)
            if tag == EXIF_ORIENTATION_TAG:
                if kind != 3:  # SHORT
                    return None
                (orientation,) = struct.unpack(order + "H", value[:2])
                return orientation if 1 <= orientation <= 8 else 1
    except struct.error:
        return None
    return 1


def gpu_fallback_reason(
    data: bytes,
    header: JpegHeader | None,
    *,
    max_bytes: int = MAX_PICTURE_BYTES,
    max_pixels: int = MAX_PICTURE_PIXELS,
    min_side: int = 16,
) -> str | None:
    """Why ``data`` must be decoded on the CPU, or None when the GPU path takes it.

    Everything the CPU path would refuse (too big, too small, damaged) goes
    there too, so the user gets the same typed error whichever path was taken.
    """
    if header is None:
        return "not a readable JPEG"
    if len(data) > max_bytes:
        return "too many bytes"
    if EOI_MARKER not in data[-TAIL:]:  # nvJPEG may decode a cut-off file without a word; Pillow says it's damaged
        return "cut off (no end-of-image marker)"
    if header.sof not in BASELINE_SOF:
        return "progressive" if header.sof in PROGRESSIVE_SOF else "unusual JPEG coding"
    if header.precision != 8:
        return "not 8-bit"
    if header.components not in (1, 3):
        return "CMYK or unusual colour components"
    if header.width * header.height > max_pixels:
        return "too many pixels"
    if min(header.width, header.height) < min_side:
        return "too small"
    if header.orientation is None:
        return "unreadable EXIF orientation"
    return None
