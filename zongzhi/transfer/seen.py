"""Keys seen earlier in a file, in 16 bytes each, so a million-row file's duplicates are found in flat memory.

A dict of a million Python ints costs over 100 MB; here each key is a 64-bit hash kept with a 64-bit
value (the first row number, and a fingerprint of what that row said) in sorted arrays. New keys
collect in a small dict; when it fills, it becomes a sorted run, and runs are merged as they pile up
(as a log-structured merge tree does), so a lookup is a few binary searches.
"""

import hashlib
import heapq
from array import array
from bisect import bisect_left

FRESH = 50_000


def key64(text: str) -> int:
    """A 64-bit hash of a text key (household code, ID's blind index…)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class SeenKeys:
    """Key -> the value stored when it was first seen."""

    def __init__(self) -> None:
        self.runs: list[tuple[array, array]] = []
        self.fresh: dict[int, int] = {}

    def first(self, key: int, value: int) -> int:
        """The value stored with `key` before, or `value` (now stored) when the key is new."""
        for keys, values in self.runs:
            i = bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                return values[i]
        found = self.fresh.setdefault(key, value)
        if len(self.fresh) >= FRESH:
            self._flush()
        return found

    def _flush(self) -> None:
        items = sorted(self.fresh.items())
        self.fresh = {}
        self.runs.append((array("Q", (k for k, _v in items)), array("Q", (v for _k, v in items))))
        while len(self.runs) > 1 and len(self.runs[-1][0]) * 2 >= len(self.runs[-2][0]):
            (k2, v2), (k1, v1) = self.runs.pop(), self.runs.pop()
            keys, values = array("Q"), array("Q")
            for k, v in heapq.merge(zip(k1, v1, strict=True), zip(k2, v2, strict=True)):
                keys.append(k)
                values.append(v)
            self.runs.append((keys, values))
