"""Compile the gettext catalogs (locale/*/LC_MESSAGES/django.po -> .mo) without GNU gettext.

Handles what our catalogs use: msgctxt-free singular entries, multi-line strings, the header, and
`#, fuzzy` (skipped, as msgfmt does). `manage.py compilemessages` gives the same result where
GNU gettext is installed. Usage: python scripts/compile_messages.py [--check]
(--check exits 1 when a committed .mo differs from its .po).
"""

import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of the translated, non-fuzzy entries (the header under "")."""
    entries: dict[str, str] = {}
    msgid: list[str] = []
    msgstr: list[str] = []
    target: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal fuzzy
        if target is not None and not fuzzy and "".join(msgstr):
            entries["".join(msgid)] = "".join(msgstr)
        fuzzy = False

    for line in [*text.splitlines(), ""]:
        line = line.strip()
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            flush()
            msgid, msgstr = [ast.literal_eval(line[6:])], []
            target = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            target = msgstr
        elif line.startswith('"') and target is not None:
            target.append(ast.literal_eval(line))
        elif not line and target is msgstr:
            flush()
            target = None
    return entries


def mo_bytes(entries: dict[str, str]) -> bytes:
    """The GNU .mo binary of the entries (no hash table; readers fall back to binary search)."""
    keys = sorted(entries)
    ids = [k.encode() for k in keys]
    strs = [entries[k].encode() for k in keys]
    header_size = 7 * 4
    originals_at = header_size
    translations_at = originals_at + len(keys) * 8
    data_at = translations_at + len(keys) * 8
    offsets: list[tuple[int, int]] = []
    blob = b""
    for s in ids + strs:
        offsets.append((len(s), data_at + len(blob)))
        blob += s + b"\0"
    table = b"".join(struct.pack("<2I", length, at) for length, at in offsets)
    return struct.pack("<7I", 0x950412DE, 0, len(keys), originals_at, translations_at, 0, 0) + table + blob


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    for po in sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po")):
        compiled = mo_bytes(parse_po(po.read_text(encoding="utf-8")))
        mo = po.with_suffix(".mo")
        if check:
            if not mo.exists() or mo.read_bytes() != compiled:
                stale.append(str(mo.relative_to(ROOT)))
        else:
            mo.write_bytes(compiled)
            print(f"compiled {mo.relative_to(ROOT)}")
    if stale:
        print("out of date (run python scripts/compile_messages.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
