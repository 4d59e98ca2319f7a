"""The show's default cover: its title on audiofeed's artwork, drawn at build time (Pillow).

Apple asks for 1400-3000 px square, sRGB; directories show the title small, so the art carries
it. The feed's ``cover.png`` is 3000 px (about 111 kB: flat colours compress well); the copy
embedded in every MP3 is 600 px, enough for a player's screen, so MP3s stay small. The same
title and Pillow version give the same bytes (the font is Pillow's own, no time is stored).
"""

from __future__ import annotations

import io
import math
import textwrap
from functools import lru_cache
from pathlib import Path

COVER_VERSION = 2  # bump when the drawing changes: the pages' keys follow it
FEED_SIZE = 3000  # px: Apple's maximum, for the feed's cover.png
EMBEDDED_SIZE = 600  # px: the copy in each MP3's APIC frame
BACKGROUND, BAND, MARK, TEXT = (14, 94, 111), (10, 70, 84), (255, 224, 138), (255, 255, 255)


def _png(img) -> bytes:
    """``img`` as the PNG every art file is: marked sRGB (perceptual intent), as Apple asks."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add(b"sRGB", b"\x00")
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=6, pnginfo=info)  # optimize=True: 4% smaller, twice the time
    return out.getvalue()


def default_cover(title: str, size: int = FEED_SIZE) -> bytes:
    """A square PNG (sRGB) of ``size`` px with ``title`` and a waveform mark."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, int(size * 0.72), size, size], fill=BAND)
    bars, left, span = 24, int(size * 0.1), size * 0.8
    for i in range(bars):
        height = int(size * 0.12 * (0.35 + 0.65 * abs(math.sin(i * 0.9))))
        x, y = left + int(i * span / bars), int(size * 0.86)
        draw.rounded_rectangle([x, y - height // 2, x + int(span / bars * 0.55), y + height // 2],
                               radius=max(1, int(size * 0.008)), fill=MARK)
    lines = textwrap.wrap(title, width=18) or [""]
    font_size = int(size * (0.085 if len(lines) <= 5 else 0.085 * 5 / len(lines)))
    font = ImageFont.load_default(size=font_size)
    y = int(size * 0.12)
    for line in lines[:8]:
        draw.text((int(size * 0.09), y), line, font=font, fill=TEXT)
        y += int(font_size * 1.25)
    return _png(img)


PAGE_ART_SIZE = 1400  # px: Apple's minimum for episode art, a third of the show's pixels to draw
PAGE_ART_VERSION = 1  # bump when the drawing changes


def page_art(show_art: bytes, page_title: str, size: int = PAGE_ART_SIZE) -> bytes:
    """A page episode's own art: the show's art (``show_art``, any image Pillow reads) at ``size``
    px with a band across its lower part carrying ``page_title``, so that episodes look apart in
    an app. The same inputs and Pillow version give the same bytes."""
    from PIL import ImageDraw, ImageFont

    img = _scaled_image(show_art, size).copy()
    draw = ImageDraw.Draw(img)
    top = int(size * 0.52)
    draw.rectangle([0, top, size, size], fill=BAND)
    lines = textwrap.wrap(page_title, width=24) or [""]
    font_size = int(size * (0.07 if len(lines) <= 4 else 0.07 * 4 / len(lines)))
    font = ImageFont.load_default(size=font_size)
    y = top + int(size * 0.05)
    for line in lines[:6]:
        draw.text((int(size * 0.07), y), line, font=font, fill=TEXT)
        y += int(font_size * 1.25)
    return _png(img)


@lru_cache(maxsize=4)
def _scaled_image(art: bytes, size: int):
    """``art`` decoded and scaled to a ``size`` px square, once per build (every page draws on it)."""
    from PIL import Image

    with Image.open(io.BytesIO(art)) as base:
        return base.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)


def page_arts(show_art: bytes, page_title: str, own: bytes | None = None) -> tuple[bytes, bytes]:
    """A page's art for its feed items (1400 px) and the copy embedded in its MP3s (600 px): the
    producer's own image for the page (``own``, scaled to a square), else drawn (:func:`page_art`)."""
    if own is not None:
        return scaled(own, PAGE_ART_SIZE), scaled(own, EMBEDDED_SIZE)
    return page_art(show_art, page_title), page_art(show_art, page_title, EMBEDDED_SIZE)


def scaled(image: bytes, size: int) -> bytes:
    """``image`` (PNG or JPEG) as a ``size`` px square sRGB PNG (the same bytes for the same input)."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as source:
        img = source.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    return _png(img)


def covers(own: Path | None, title: str) -> tuple[bytes, bytes]:
    """The feed's cover and the copy embedded in each MP3: the producer's own art (``own``) for
    both, or the show's ``title`` on audiofeed's art, 3000 px and 600 px."""
    if own is not None:
        art = own.read_bytes()
        return art, art
    return default_cover(title), default_cover(title, EMBEDDED_SIZE)


def cover_key(own: Path | None, title: str) -> str:
    """What the covers' bytes follow, without drawing them (a build with nothing to do never
    pays for the drawing): the producer's file, or the title, this drawing and Pillow's version."""
    import hashlib

    from ..speech.engine import package_version

    if own is not None:
        return hashlib.sha256(own.read_bytes() + f"page art {PAGE_ART_VERSION} {package_version('pillow')}".encode()).hexdigest()

    return hashlib.sha256(f"default cover {COVER_VERSION} page art {PAGE_ART_VERSION} {package_version('pillow')}\n"
                          f"{title}".encode()).hexdigest()
