"""Times as people and formats write them: one function per notation, and its inverse where one is read back.

- :func:`clock`: a position as players and show notes show it ("01:11", "1:02:03");
- :func:`npt`: Normal Play Time to the millisecond, as Podlove chapters and WebVTT write it
  ("00:01:11.040"); :func:`parse_npt_ms` reads it (and its shorter forms) back.
"""

from __future__ import annotations


def clock(ms: int) -> str:
    """A position as players show it.

    >>> clock(0), clock(71_040), clock(3_723_000)
    ('00:00', '01:11', '1:02:03')
    """
    s = int(ms) // 1000
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def npt(seconds: float) -> str:
    """Normal Play Time to the millisecond (also WebVTT's timestamp).

    >>> npt(0), npt(71.04), npt(3723.5)
    ('00:00:00.000', '00:01:11.040', '01:02:03.500')
    """
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def parse_npt_ms(value: str) -> int:
    """Milliseconds of a Normal Play Time value (``HH:MM:SS.mmm``, ``MM:SS`` or seconds).

    >>> parse_npt_ms("00:01:11.040"), parse_npt_ms("37"), parse_npt_ms("7:48"), parse_npt_ms(npt(3723.5))
    (71040, 37000, 468000, 3723500)
    """
    try:
        parts = [float(p) for p in value.split(":")]
    except ValueError:
        raise ValueError(f"start {value!r} is not Normal Play Time") from None
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds_to_ms(seconds, f"start {value!r}")


MAX_SECONDS = 10 * 24 * 3600  # no time in a published file is this long: a larger one is corrupt


def seconds_to_ms(seconds, what: str) -> int:
    """Whole milliseconds of ``seconds`` read from a published file; ValueError for what no
    episode can hold (not a number, infinite, negative, or longer than :data:`MAX_SECONDS`).

    >>> seconds_to_ms(71.04, "start")
    71040
    >>> seconds_to_ms(float("inf"), "startTime inf")
    Traceback (most recent call last):
    ...
    ValueError: startTime inf is not a time in an episode
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"{what} is not a time in an episode")
    return round(seconds * 1000)
