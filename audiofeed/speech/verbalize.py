"""Speech normalization: written health text in, what a clinician would say aloud out (English).

espeak-ng reads "2-4 cm" as "two dash four C M", "1/3" as "one slash three" and "stage II" as
"stage roman two". This stage, before the producer's lexicon and the engine, rewrites what it
recognises and leaves everything else alone:

- units after numbers, singular or plural: ``2 mg`` "2 milligrams", ``1 mg`` "1 milligram",
  ``400mg``, ``38.5 °C`` "38.5 degrees Celsius", ``120 mmHg``, ``70 bpm``, ``5%``;
- ranges between numbers, with a hyphen or an en dash: ``2-4 cm`` "2 to 4 centimeters";
- comparators: ``≥ 5`` "at least 5", ``≤`` "at most", ``>`` "more than", ``<`` "less than",
  ``±`` "plus or minus";
- common fractions (``1/3 of`` "a third of", ``3/4`` "three quarters") and blood-pressure
  readings (``140/90`` "140 over 90");
- roman numerals after stage, grade, type, phase, class or part: ``stage II`` "stage 2";
- Latin and clinical abbreviations: i.e., e.g., vs., approx., b.i.d., t.i.d., q.i.d., q.d., p.r.n.;
- times per day: ``3x daily`` "3 times daily".

Dates (``2024-03-05``, ``12/05/2024``), phone numbers (``555-123-4567``), version-like strings
(``1.2.3``) and anything else it does not recognise are left as they are. The text shown to
people (captions, transcripts, pages) is never changed: :func:`normalize` returns, with the
spoken text, where its pieces start in the written text, as :class:`~audiofeed.speech.engine.Lexicon` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

RULES_VERSION = "2"  # part of the settings key: a change to the rules re-renders what they change

# unit: (singular, plural). Symbols as pages write them; matched right after a number.
UNITS = {
    "mg": ("milligram", "milligrams"), "mcg": ("microgram", "micrograms"), "µg": ("microgram", "micrograms"),
    "μg": ("microgram", "micrograms"), "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"),
    "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"), "l": ("liter", "liters"),
    "L": ("liter", "liters"), "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"),
    "m": ("meter", "meters"), "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "mmHg": ("millimeter of mercury", "millimeters of mercury"), "bpm": ("beat per minute", "beats per minute"),
    "IU": ("international unit", "international units"), "%": ("percent", "percent"),
    "dL": ("deciliter", "deciliters"), "mmol": ("millimole", "millimoles"),
}
PER = {"day": "day", "d": "day", "h": "hour", "hr": "hour", "min": "minute", "week": "week"}  # after "/" only
ABBREVIATIONS = {  # as written (case-insensitive) -> as said
    "i.e.": "that is", "e.g.": "for example", "vs.": "versus", "approx.": "approximately",
    "b.i.d.": "twice a day", "t.i.d.": "three times a day", "q.i.d.": "four times a day", "q.d.": "once a day",
    "p.r.n.": "as needed",
}
COMPARATORS = {"≥": "at least", "≤": "at most", ">=": "at least", "<=": "at most", ">": "more than",
               "<": "less than", "±": "plus or minus"}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
ROMAN_AFTER = ("stage", "grade", "type", "phase", "class", "part")
ORDINALS = {2: ("half", "halves"), 3: ("third", "thirds"), 4: ("quarter", "quarters"), 5: ("fifth", "fifths"),
            6: ("sixth", "sixths"), 10: ("tenth", "tenths")}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
TIMES = {1: "once", 2: "twice"}

_NUM = r"\d+(?:[.,]\d+)?"
_NUMERAL = r"\b(?:" + "|".join(sorted(ROMAN, key=len, reverse=True)) + r")[abc]?\b"  # upper case only ("I" the word is not one); "IIIb": a subtype
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_NOT_NUMBERISH = r"(?![\w/.\-–]?\d)"  # the match is not part of a longer number, date, phone or version


def _unit_words(number: str, unit: str, m: re.Match | None = None) -> str:
    """The unit in words: singular for 1, and where the quantity describes a noun ("a 5 mm stone")."""
    singular, plural = UNITS[unit]
    if number in ("1", "1.0") or unit == "%":
        return singular
    if m is not None and re.search(r"\b(?:a|an)\s+$", m.string[max(0, m.start() - 4):m.start()], re.IGNORECASE):
        return singular
    return plural


def _per(m: re.Match) -> str:
    return "per " + (UNITS[m["unit"]][0] if m["unit"] in UNITS else PER[m["unit"]])


def _range(m: re.Match) -> str:
    joint = "and" if re.search(r"\bbetween\s+$", m.string[max(0, m.start() - 12):m.start()], re.IGNORECASE) else "to"
    said = f"{m['a']} {joint} {m['b']}"
    if m["unit"]:
        said += " " + _unit_words(m["b"], m["unit"], m)
        if m["per"]:
            said += " " + _per({"unit": m["per"]})
    return said


def _quantity(m: re.Match) -> str:
    said = f"{m['n']} {_unit_words(m['n'], m['unit'], m)}"
    if m["per"]:
        said += " per " + (UNITS[m["per"]][0] if m["per"] in UNITS else PER[m["per"]])
    return said


def _fraction(m: re.Match) -> str | None:
    a, b = int(m["a"]), int(m["b"])
    if a < b and b in ORDINALS and a <= 9:
        singular, plural = ORDINALS[b]
        said = ("half" if b == 2 else f"a {singular}") if a == 1 else f"{NUMBER_WORDS[a]} {plural}"
        return said + (f" {UNITS[m['unit']][1]}" if m["unit"] else "")
    if 60 <= a <= 300 and 30 <= b <= 200 and a > b:  # systolic over diastolic
        return f"{a} over {b}" + (f" {UNITS[m['unit']][1]}" if m["unit"] else "")
    return None


def _roman(m: re.Match) -> str:
    """``stage II`` "stage 2", and a list after it: ``stages I, II and III`` "stages 1, 2 and 3"."""
    def arabic(n: re.Match) -> str:
        numeral = n.group(0)
        subtype = numeral[-1] if numeral[-1] in "abc" else ""
        return f"{ROMAN[numeral.removesuffix(subtype)]}{subtype}"
    return re.sub(_NUMERAL, arabic, m.group(0)[len(m["word"]):]).join((m["word"], ""))


def _times(m: re.Match) -> str:
    n = int(m["n"])
    return f"{TIMES.get(n, f'{n} times')} {m['when']}"


def _comparator(m: re.Match) -> str:
    return f"{COMPARATORS[m['op']]} "


def _abbreviation(m: re.Match) -> str:
    """The words; its period stays where it also ended the sentence ("... t.i.d. Then ...")."""
    rest = m.string[m.end():]
    ends_sentence = not rest.strip() or re.match(r"\s*(\n|[A-Z])", rest) is not None
    return ABBREVIATIONS[m.group(0).lower()] + ("." if ends_sentence else "")


# Applied in order, each to what the ones before left alone (a rewritten span is not read again).
RULES: list[tuple[re.Pattern, Callable[[re.Match], str | None]]] = [
    (re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")(?!\w)", re.IGNORECASE),
     _abbreviation),
    (re.compile(rf"(?<![\w/.\-–])(?P<a>{_NUM})\s?[-–]\s?(?P<b>{_NUM})(?:\s?(?P<unit>{_UNIT})(?:/(?P<per>{_UNIT}|{'|'.join(PER)}))?)?"
                rf"(?![\w/\-–]|[.,]\d)"), _range),
    (re.compile(rf"(?<![\w/.\-–])(?P<a>\d{{1,3}})/(?P<b>\d{{1,3}})(?:\s?(?P<unit>mmHg))?(?![\w/]|[.,]\d)"), _fraction),
    (re.compile(r"(?P<op>≥|≤|>=|<=|>|<|±)\s?(?=\d)"), _comparator),
    (re.compile(rf"(?<![\w.])(?P<n>{_NUM})\s?(?P<unit>{_UNIT})(?:/(?P<per>{_UNIT}|{'|'.join(PER)}))?(?![\w°])"),
     _quantity),
    (re.compile(r"\b(?P<word>(?:" + "|".join(ROMAN_AFTER) + r")s?)\s" + _NUMERAL
                + r"(?:(?:,\s*|,?\s+(?:and|or|to)\s+|\s*[-–]\s*)" + _NUMERAL + r")*\b", re.IGNORECASE), _roman),
    (re.compile(rf"\bper\s(?P<unit>(?!%){_UNIT})(?![\w°/])"), _per),
    (re.compile(r"\b(?P<n>\d{1,2})\s?[x×]\s(?P<when>daily|a day|per day|a week|per week|weekly)\b"), _times),
]


def normalize(text: str, protected: list[tuple[int, int]] = ()) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``text`` as it is to be said, and (said offset, written offset) pairs where the two realign.

    Spans in ``protected`` (the producer's lexicon entries) are left for the lexicon.

    >>> normalize("Generally 2-4 cm; take 400mg b.i.d. if ≥ 5 mg/L.")[0]
    'Generally 2 to 4 centimeters; take 400 milligrams twice a day if at least 5 milligrams per liter.'
    >>> normalize("1/3 of patients at stage II had 140/90 mmHg, i.e. high.")[0]
    'a third of patients at stage 2 had 140 over 90 millimeters of mercury, that is high.'
    >>> normalize("Call 555-123-4567 on 2024-03-05 or 12/05/2024 (version 1.2.3).")[0]
    'Call 555-123-4567 on 2024-03-05 or 12/05/2024 (version 1.2.3).'
    """
    claimed = list(protected)
    edits = []  # (start, end, said)
    for pattern, say in RULES:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in claimed):
                continue
            said = say(m)
            if said is None or said == m.group(0):
                continue
            edits.append((m.start(), m.end(), said))
            claimed.append((m.start(), m.end()))
    edits.sort()
    out, offsets, cursor, shift = [], [], 0, 0
    for start, end, said in edits:
        out.append(text[cursor:start])
        out.append(said)
        shift += len(said) - (end - start)
        cursor = end
        offsets.append((end + shift, end))
    out.append(text[cursor:])
    return "".join(out), tuple(offsets)


def to_speak(written: str, lexicon, enabled: bool = True) -> tuple[str, tuple[tuple[int, int], ...]]:
    """What is said for ``written``: the defaults (unless ``enabled`` is False), then the producer's
    ``lexicon`` (a :class:`~audiofeed.speech.engine.Lexicon`), whose entries win where both would apply;
    with the realign points from the said text back to the written one.

    >>> from audiofeed.speech.lexicon import Lexicon
    >>> to_speak("Take 5 mg or 2-4 ml.", Lexicon({"mg": "milligram"}))[0]
    'Take 5 milligram or 2 to 4 milliliters.'
    >>> to_speak("Take 5 mg or 2-4 ml.", Lexicon({}), enabled=False)[0]
    'Take 5 mg or 2-4 ml.'
    """
    said, first = normalize(written, lexicon.spans(written)) if enabled else (written, ())
    spoken, second = lexicon.apply(said)
    return spoken, compose(first, second)


def compose(first: tuple[tuple[int, int], ...], second: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Realign points of two rewrites in a row (written -> ``first`` -> ``second``), as one.

    Each is a tuple of (new offset, old offset) pairs as :meth:`~audiofeed.speech.engine.Lexicon.apply`
    gives; the result maps the final text's offsets to the written text's.

    >>> from audiofeed.speech.lexicon import Lexicon
    >>> written = "Take 2 mg of CT dye, then rest."
    >>> said1, off1 = normalize(written)
    >>> said2, off2 = Lexicon({"CT": "C T"}).apply(said1)
    >>> both = compose(off1, off2)
    >>> said2[Lexicon.to_display(both, said2.index("then")):] if False else written[Lexicon.to_display(both, said2.index("then")):]
    'then rest.'
    """
    from .lexicon import Lexicon

    shift_back = Lexicon.to_display  # new -> old through ``points``

    def shift_forward(points, offset):  # old -> new through ``points``
        delta = 0
        for new_at, old_at in points:
            if old_at > offset:
                break
            delta = new_at - old_at
        return offset + delta

    merged = {s: shift_back(first, m) for s, m in second}
    for mid, written in first:
        merged.setdefault(shift_forward(second, mid), written)
    return tuple(sorted(merged.items()))
