"""Duplicates are found however far apart they are in a file, with 16 bytes per key remembered."""

from zongzhi.transfer.seen import SeenKeys, key64


def test_the_first_row_of_every_key_is_remembered_across_runs() -> None:
    seen = SeenKeys()
    for row in range(230_000):  # several sorted runs, merged
        assert seen.first(key64(f"H{row}"), row) == row
    for row in (0, 49_999, 50_000, 123_456, 229_999):
        assert seen.first(key64(f"H{row}"), 999_999) == row  # a duplicate names its first row
    assert seen.first(key64("new"), 7) == 7
    assert sum(len(keys) for keys, _values in seen.runs) + len(seen.fresh) == 230_001
