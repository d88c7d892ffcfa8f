"""Invented names: places, people, streets and organisations, built from syllables."""

from __future__ import annotations

import numpy as np

_ONSETS = ("b", "br", "d", "dr", "g", "gr", "h", "k", "kr", "l", "m", "n", "p", "r", "s",
           "st", "t", "tr", "v", "z", "zh", "sv", "ch", "y")
_VOWELS = ("a", "e", "i", "o", "u", "a", "o", "e")
_CODAS = ("", "", "", "n", "r", "l", "v", "m", "sh", "st")
_PLACE_ENDINGS = ("avel", "orin", "esk", "undra", "ovar", "ethe", "ivar", "amor", "elin",
                  "usta", "orak", "inel", "avets", "omyr", "ulen", "aresh")
_GIVEN_ENDINGS = {
    "male": ("an", "ir", "omir", "el", "or", "yan", "ash", "en"),
    "female": ("a", "ina", "ela", "ara", "ya", "ita", "ena", "ora"),
}
_FAMILY_ENDINGS = ("ev", "ak", "ovan", "uk", "ets", "ar", "ich", "enko", "in", "ash")
_STREET_WORDS = ("Orchard", "Mill", "River", "School", "Church", "Field", "Station",
                 "Market", "Garden", "Bridge", "Poplar", "Linden", "Meadow", "Well")


class NameMaker:
    """Invents pronounceable names from syllables; place names are unique within a dataset."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._used: set[str] = set()

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self._rng.integers(len(options)))]

    def _root(self, syllables: int) -> str:
        parts = [self._pick(_ONSETS) + self._pick(_VOWELS) for _ in range(syllables)]
        return "".join(parts) + self._pick(_CODAS)

    def place(self) -> str:
        """A new, unused place name such as "Dravorin"."""
        while True:
            syllables = 1 + int(self._rng.integers(2))
            root = self._root(syllables).rstrip("aeiou") or self._pick(_ONSETS)
            name = (root + self._pick(_PLACE_ENDINGS)).capitalize()
            if name not in self._used and 5 <= len(name) <= 14:
                self._used.add(name)
                return name

    def person(self, sex: str) -> str:
        """A given name and a family name, the given one fitting ``sex`` where known."""
        key = sex if sex in _GIVEN_ENDINGS else self._pick(("male", "female"))
        given = (self._root(1).rstrip("aeiouy") + self._pick(_GIVEN_ENDINGS[key])).capitalize()
        family = (self._root(2).rstrip("aeiouy") + self._pick(_FAMILY_ENDINGS)).capitalize()
        return f"{given} {family}"

    def street(self) -> str:
        """A street name such as "Orchard Street"."""
        return f"{self._pick(_STREET_WORDS)} Street"

    def word(self) -> str:
        """A short capitalised invented word (for organisations and rivers)."""
        return self._root(2).capitalize()
