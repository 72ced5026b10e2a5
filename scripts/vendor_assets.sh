#!/usr/bin/env bash
# Regenerate static/vendor/ from the exact versions pinned in package.json /
# package-lock.json.  Developer tool: run it when upgrading an asset, review the
# diff and commit static/vendor/.  Running the site (make run) never needs npm.
#
#   bash scripts/vendor_assets.sh
#
# Needs: node/npm (registry access), python3 with the venv module (registry
# access for fonttools + brotli, installed into a throw-away venv outside the
# repo: $FONT_VENV, default ${TMPDIR:-/tmp}/zongzhi-fontvenv).
# See docs/frontend-assets.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENDOR="static/vendor"
NM="node_modules"
FONT_VENV="${FONT_VENV:-${TMPDIR:-/tmp}/zongzhi-fontvenv}"
FONTTOOLS_VERSION="4.68.0"
BROTLI_VERSION="1.2.1"

echo ">> npm ci (exact versions from package-lock.json)"
npm ci --no-audit --no-fund --ignore-scripts

echo ">> font tool venv: $FONT_VENV"
if [ ! -x "$FONT_VENV/bin/python" ]; then
    python3 -m venv "$FONT_VENV"
fi
"$FONT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "fonttools==$FONTTOOLS_VERSION" "brotli==$BROTLI_VERSION"

rm -rf "$VENDOR"
mkdir -p "$VENDOR/htmx" "$VENDOR/echarts" \
         "$VENDOR/fonts/noto-sans-sc" "$VENDOR/fonts/noto-sans-mongolian"

echo ">> htmx"
cp "$NM/htmx.org/dist/htmx.min.js" "$VENDOR/htmx/htmx.min.js"
cp "$NM/htmx.org/LICENSE" "$VENDOR/htmx/LICENSE"

echo ">> echarts"
cp "$NM/echarts/dist/echarts.min.js" "$VENDOR/echarts/echarts.min.js"
cp "$NM/echarts/LICENSE" "$VENDOR/echarts/LICENSE"
cp "$NM/echarts/NOTICE" "$VENDOR/echarts/NOTICE"

echo ">> fonts (subsetting Noto Sans SC, copying Noto Sans Mongolian)"
cp "$NM/@expo-google-fonts/noto-sans-sc/LICENSE_FONT" "$VENDOR/fonts/noto-sans-sc/LICENSE_FONT"
cp "$NM/@expo-google-fonts/noto-sans-sc/LICENSE" "$VENDOR/fonts/noto-sans-sc/LICENSE"
cp "$NM/@fontsource/noto-sans-mongolian/LICENSE" "$VENDOR/fonts/noto-sans-mongolian/LICENSE"

"$FONT_VENV/bin/python" - "$NM" "$VENDOR/fonts" "$ROOT" <<'PY'
"""Subset Noto Sans SC into unicode-range slices (woff2) and write fonts.css.

Pages take the device's own CJK font first (the font stacks in the CSS, then local() here);
these files are the fallback for a device without one. A browser fetches a slice only when a
page holds one of its characters, and renders with a system font until it arrives (swap).

Output (in static/vendor/fonts/):
  noto-sans-sc/zongzhi-sans-sc-{400,700}-pNN.woff2
      platform slices: the characters the platform's own texts use (templates, messages,
      sources, the reference file's place names; ASCII and Latin-1 left to the system font),
      most frequent first, SLICE to a file: the pages' own words in a few small files.
  noto-sans-sc/zongzhi-sans-sc-{400,700}-cNN.woff2
      common slices: the rest of GB2312's level 1 (its 3,755 common hanzi), COMMON to a file, in
      code-point order: the characters of names and free text.
  noto-sans-sc/zongzhi-sans-sc-{400,700}-bNN.woff2
      block slices: everything else (GB2312's level 2 and symbols, Latin Extended, punctuation,
      full-width forms, the rest of U+4E00-9FFF) in code-point blocks, for rare characters.
      Declared first, then the common, then the platform slices: where unicode-ranges overlap
      the browser tries the last-declared face first, so a block file is fetched only for a
      character no later slice has (a file leaves out the characters of later slices).
  noto-sans-mongolian/noto-sans-mongolian-mongolian-400-normal.woff2
      copied unchanged from @fontsource/noto-sans-mongolian.
  fonts.css
"""
import collections
import concurrent.futures
import json
import os
import re
import sys

from fontTools import subset
from fontTools.ttLib import TTFont

nm, out, root = sys.argv[1], sys.argv[2], sys.argv[3]
sc_pkg = os.path.join(nm, "@expo-google-fonts", "noto-sans-sc")
mn_pkg = os.path.join(nm, "@fontsource", "noto-sans-mongolian")
SLICE = 200  # platform characters per file: ~25 KB
COMMON = 250  # common characters per file: ~35 KB
BLOCK = 1024  # code points per block file of U+4E00-9FFF: ~140 KB
SYMBOLS = 600  # other characters per block file


def gb2312_chars(rows=range(0xA1, 0xF8)):
    chars = set()
    for b1 in rows:
        for b2 in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([b1, b2]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


def span(a, b):
    return set(range(a, b + 1))


GB = gb2312_chars()
assert len({c for c in GB if 0x4E00 <= c <= 0x9FFF}) == 6763
EXTRA = (
    span(0x0100, 0x024F)      # Latin Extended-A/B (pinyin ǎ ǐ ǒ ǔ ǖ ...)
    | span(0x02B0, 0x02FF)    # spacing modifier letters
    | span(0x0300, 0x036F)    # combining diacritics
    | span(0x2000, 0x206F)    # general punctuation (— … “ ” ‘ ’ ‰ ※ U+202F ...)
    | span(0x20A0, 0x20CF)    # currency (€ ¥)
    | span(0x2100, 0x218F)    # letterlike + number forms (℃ № Ⅰ Ⅱ ...)
    | span(0x2190, 0x21FF)    # arrows
    | span(0x2200, 0x22FF)    # math operators (≤ ≥ ≠ ...)
    | span(0x2460, 0x24FF)    # enclosed alphanumerics (① ⑴ ⒈)
    | span(0x2500, 0x25FF)    # box drawing, blocks, geometric shapes (■ ▲ ○)
    | span(0x2600, 0x26FF)    # misc symbols (★ ☆ ☎)
    | span(0x3000, 0x303F)    # CJK symbols and punctuation (、。《》「」【】〔〕)
    | span(0x3200, 0x32FF)    # enclosed CJK (㈠ ㊣)
    | span(0xFE10, 0xFE1F)    # vertical forms
    | span(0xFE30, 0xFE4F)    # CJK compatibility forms (vertical punctuation)
    | span(0xFF00, 0xFFEF)    # half-width and full-width forms (，：；（）！？)
)
HAN = span(0x4E00, 0x9FFF)
reg = os.path.join(sc_pkg, "400Regular", "NotoSansSC_400Regular.ttf")
bold = os.path.join(sc_pkg, "700Bold", "NotoSansSC_700Bold.ttf")
with TTFont(reg) as f:
    HAVE = set(f.getBestCmap())
# ASCII and Latin-1 come from the system's sans-serif: no download for digits and Latin.
ALL = ((GB | EXTRA | HAN) & HAVE) - span(0x0000, 0x00FF)


def platform_text():
    """Every file whose words the platform shows: templates, sources, messages, place names."""
    for top in ("zongzhi", "locale", "static/js"):
        for base, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if d not in ("migrations", "__pycache__"))
            for name in sorted(files):
                if name.endswith((".html", ".py", ".po", ".js", ".txt")):
                    with open(os.path.join(base, name), encoding="utf-8", errors="ignore") as f:
                        yield f.read()
    with open(os.path.join(root, "reference", "xilingol.json"), encoding="utf-8") as f:
        yield f.read()


counts = collections.Counter(ord(c) for text in platform_text() for c in text if ord(c) in ALL)
PLATFORM = sorted(counts, key=lambda c: (-counts[c], c))


def ranges(chars):
    """unicode-range text of a set of code points: runs joined, in code-point order."""
    runs, chars = [], sorted(chars)
    start = prev = chars[0]
    for c in chars[1:] + [None]:
        if c is not None and c == prev + 1:
            prev = c
            continue
        runs.append(f"U+{start:X}" if start == prev else f"U+{start:X}-{prev:X}")
        if c is not None:
            start = prev = c
    return ", ".join(runs)


LEVEL1 = sorted((gb2312_chars(range(0xB0, 0xD8)) & ALL) - set(PLATFORM))
LATER = set(PLATFORM) | set(LEVEL1)

# (file stem, characters in the file, unicode-range): blocks first, platform slices last.
slices = []
others = sorted(ALL - HAN)
for n, i in enumerate(range(0, len(others), SYMBOLS), 1):
    chunk = set(others[i : i + SYMBOLS])
    slices.append((f"b{n:02d}", chunk - LATER, ranges(chunk)))
for start in range(0x4E00, 0xA000, BLOCK):
    chunk = ALL & span(start, start + BLOCK - 1)
    n = len(slices) + 1
    slices.append((f"b{n:02d}", chunk - LATER, ranges(span(min(chunk), max(chunk)))))
for n, i in enumerate(range(0, len(LEVEL1), COMMON), 1):
    chunk = set(LEVEL1[i : i + COMMON])
    slices.append((f"c{n:02d}", chunk, ranges(chunk)))
for n, i in enumerate(range(0, len(PLATFORM), SLICE), 1):
    chunk = set(PLATFORM[i : i + SLICE])
    slices.append((f"p{n:02d}", chunk, ranges(chunk)))
assert set().union(*(chars for _stem, chars, _range in slices)) == ALL


def make(src, unicodes, dest):
    """One woff2 file of `src` with `unicodes`; the code points it covers (one process per file)."""
    opts = subset.Options()
    opts.flavor = "woff2"
    # default layout features (incl. vert/vrt2 for vertical text, locl, kern)
    opts.name_IDs = ["*"]          # keep copyright / licence records (OFL)
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False           # the source TTFs are unhinted anyway
    opts.recalc_timestamp = False  # reproducible output
    font = subset.load_font(src, opts)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    subset.save_font(font, dest, opts)
    return set(font.getBestCmap())


sc_dir = os.path.join(out, "noto-sans-sc")
sizes = collections.Counter()
jobs = {}
# Each file takes seconds (the layout tables are read whole): one process per core.
with concurrent.futures.ProcessPoolExecutor() as pool:
    for weight, src in (("400", reg), ("700", bold)):
        for stem, chars, _range in slices:
            dest = os.path.join(sc_dir, f"zongzhi-sans-sc-{weight}-{stem}.woff2")
            jobs[weight, stem, dest] = pool.submit(make, src, chars, dest)
covered = collections.defaultdict(set)
for (weight, stem, dest), job in jobs.items():
    covered[weight] |= job.result()
    sizes[weight, stem[0]] += os.path.getsize(dest)
for weight in ("400", "700"):
    missing = GB - covered[weight] - span(0x0000, 0x00FF)
    if missing:
        sys.exit(f"GB2312 characters missing from the {weight} slices: " + "".join(map(chr, sorted(missing))))
for (weight, kind), size in sorted(sizes.items()):
    label = {"p": "platform", "c": "common", "b": "block"}[kind]
    print(f"   {weight} {label} slices: {size:,} bytes")
print(f"   {len(PLATFORM):,} platform and {len(LEVEL1):,} common characters; {len(slices)} slices per weight")

# Mongolian: take the 'mongolian' subset file and its unicode-range from fontsource.
mn_css = open(os.path.join(mn_pkg, "400.css"), encoding="utf-8").read()
block = re.search(
    r"@font-face\s*{[^}]*noto-sans-mongolian-mongolian-400-normal\.woff2[^}]*}", mn_css)
if not block:
    sys.exit("mongolian @font-face not found in @fontsource/noto-sans-mongolian/400.css")
mn_range = re.search(r"unicode-range:\s*([^;]+);", block.group(0)).group(1).strip()
mn_file = "noto-sans-mongolian-mongolian-400-normal.woff2"
with open(os.path.join(mn_pkg, "files", mn_file), "rb") as f_in, \
        open(os.path.join(out, "noto-sans-mongolian", mn_file), "wb") as f_out:
    f_out.write(f_in.read())

versions = {}
for pkg in ("@expo-google-fonts/noto-sans-sc", "@fontsource/noto-sans-mongolian"):
    with open(os.path.join(nm, pkg, "package.json"), encoding="utf-8") as f:
        versions[pkg] = json.load(f)["version"]

# The device's own copy of the same design, under the names systems give it (full and PostScript
# names: local() matches those, not family names).
LOCAL = {
    "400": ["Noto Sans CJK SC", "Noto Sans CJK SC Regular", "NotoSansCJKsc-Regular", "Source Han Sans SC",
            "Source Han Sans SC Regular", "SourceHanSansSC-Regular", "Noto Sans SC", "NotoSansSC-Regular"],
    "700": ["Noto Sans CJK SC Bold", "NotoSansCJKsc-Bold", "Source Han Sans SC Bold", "SourceHanSansSC-Bold",
            "Noto Sans SC Bold", "NotoSansSC-Bold"],
}
faces = []
for stem, _chars, urange in slices:
    for weight in ("400", "700"):
        local = ", ".join(f'local("{name}")' for name in LOCAL[weight])
        faces.append(
            "@font-face {\n"
            '  font-family: "Zongzhi Sans";\n'
            "  font-style: normal;\n"
            f"  font-weight: {weight};\n"
            "  font-display: swap;\n"
            f'  src: {local}, url("noto-sans-sc/zongzhi-sans-sc-{weight}-{stem}.woff2") format("woff2");\n'
            f"  unicode-range: {urange};\n"
            "}\n"
        )

css = f"""/* GENERATED by scripts/vendor_assets.sh - do not edit by hand.
 *
 * "Zongzhi Sans": Noto Sans SC (SIL OFL 1.1, noto-sans-sc/LICENSE_FONT),
 *   subset from @expo-google-fonts/noto-sans-sc {versions['@expo-google-fonts/noto-sans-sc']}, a fallback
 *   behind the system CJK fonts of the CSS font stacks: the device's own copy first (local()),
 *   else unicode-range slices fetched only for characters a page holds.
 *   b*: blocks of code points (symbols, GB2312 level 2, the rest of U+4E00-9FFF);
 *   c*: the rest of GB2312's common hanzi (level 1), for names and free text;
 *   p*: the platform's own words, most frequent first (declared last: tried first).
 *   ASCII and Latin-1 are left to the system's sans-serif.
 * "Zongzhi Mongolian": Noto Sans Mongolian (SIL OFL 1.1, noto-sans-mongolian/LICENSE),
 *   from @fontsource/noto-sans-mongolian {versions['@fontsource/noto-sans-mongolian']}; weight 400 only
 *   (bold is synthesised).  Use as: font-family: "Zongzhi Mongolian", <the CJK stack>;
 */

{"".join(faces)}
@font-face {{
  font-family: "Zongzhi Mongolian";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: local("Noto Sans Mongolian"), local("NotoSansMongolian-Regular"), url("noto-sans-mongolian/{mn_file}") format("woff2");
  unicode-range: {mn_range};
}}
"""
with open(os.path.join(out, "fonts.css"), "w", encoding="utf-8", newline="\n") as f:
    f.write(css)
print(f"   {os.path.join(out, 'fonts.css')}: {len(css):,} bytes")
PY

echo ">> PDF fonts (TTF subsets for server-side PDF rendering, zongzhi/documents/pdf.py)"
# PDF libraries (fpdf2) embed TrueType, not woff2.  Same character sets as the
# web slices above (plus ASCII and Latin-1), so PDF and page cover the same
# text.  Standalone: needs only $NM, the Mongolian woff2 above and the font venv.
mkdir -p "$VENDOR/fonts/ttf"
cp "$NM/@expo-google-fonts/noto-sans-sc/LICENSE_FONT" "$VENDOR/fonts/ttf/OFL-noto-sans-sc.txt"
cp "$NM/@fontsource/noto-sans-mongolian/LICENSE" "$VENDOR/fonts/ttf/OFL-noto-sans-mongolian.txt"
"$FONT_VENV/bin/python" - "$NM" "$VENDOR/fonts" <<'PY'
"""Write TTF fonts for PDFs into static/vendor/fonts/ttf/.

  zongzhi-sans-sc-400.ttf, zongzhi-sans-sc-700.ttf
      Noto Sans SC Regular/Bold: all of GB2312 + Latin, punctuation, CJK
      symbols, full/half-width forms (the web slices' characters plus ASCII and
      Latin-1).
  zongzhi-sans-sc-ext-400.ttf
      Noto Sans SC Regular, the rest of U+4E00-9FFF (name characters such as
      镕 堃 喆 珺); the PDF renderer uses it as a fallback font.
  zongzhi-mongolian-400.ttf
      noto-sans-mongolian/noto-sans-mongolian-mongolian-400-normal.woff2
      decompressed to TTF unchanged (OpenType layout tables kept for shaping).

OpenType layout tables are dropped from the Chinese files: fpdf2 does not use
them for CJK (it strips GSUB/GPOS when embedding) and they only add size.
"""
import os
import sys

from fontTools import subset
from fontTools.ttLib import TTFont

nm, fonts = sys.argv[1], sys.argv[2]
sc_pkg = os.path.join(nm, "@expo-google-fonts", "noto-sans-sc")
out = os.path.join(fonts, "ttf")


def cmap_of(path):
    with TTFont(path) as f:
        return set(f.getBestCmap())


def span(a, b):
    return set(range(a, b + 1))


def gb2312_chars():
    chars = set()
    for b1 in range(0xA1, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([b1, b2]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


# The web slices' set plus ASCII and Latin-1 (PDFs have no system font to fall back on).
MAIN = gb2312_chars() | span(0x0020, 0x007E) | span(0x00A0, 0x024F) | span(0x02B0, 0x036F) | span(0x2000, 0x206F) \
    | span(0x20A0, 0x20CF) | span(0x2100, 0x22FF) | span(0x2460, 0x26FF) | span(0x3000, 0x303F) \
    | span(0x3200, 0x32FF) | span(0xFE10, 0xFE1F) | span(0xFE30, 0xFE4F) | span(0xFF00, 0xFFEF)


def make_ttf(src, unicodes, dest):
    opts = subset.Options()
    opts.name_IDs = ["*"]          # keep copyright / licence records (OFL)
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    opts.layout_features = []
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx"]
    opts.recalc_timestamp = False  # reproducible output
    font = subset.load_font(src, opts)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    subset.save_font(font, dest, opts)
    covered = set(font.getBestCmap())
    if covered != unicodes:
        sys.exit(f"{dest}: {len(unicodes - covered)} characters missing")
    print(f"   {dest}: {os.path.getsize(dest):,} bytes, {len(covered):,} chars")


reg = os.path.join(sc_pkg, "400Regular", "NotoSansSC_400Regular.ttf")
bold = os.path.join(sc_pkg, "700Bold", "NotoSansSC_700Bold.ttf")
make_ttf(reg, MAIN & cmap_of(reg), os.path.join(out, "zongzhi-sans-sc-400.ttf"))
make_ttf(bold, MAIN & cmap_of(bold), os.path.join(out, "zongzhi-sans-sc-700.ttf"))
make_ttf(reg, (span(0x4E00, 0x9FFF) - MAIN) & cmap_of(reg), os.path.join(out, "zongzhi-sans-sc-ext-400.ttf"))

mn = TTFont(os.path.join(fonts, "noto-sans-mongolian", "noto-sans-mongolian-mongolian-400-normal.woff2"),
            recalcTimestamp=False)
mn.flavor = None
mn_dest = os.path.join(out, "zongzhi-mongolian-400.ttf")
mn.save(mn_dest)
print(f"   {mn_dest}: {os.path.getsize(mn_dest):,} bytes, {len(mn.getBestCmap()):,} chars")
PY

echo ">> VERSIONS.txt"
{
    echo "# GENERATED by scripts/vendor_assets.sh from package-lock.json - do not edit."
    node -e '
        const lock = require("./package-lock.json");
        for (const name of ["htmx.org", "echarts", "@expo-google-fonts/noto-sans-sc", "@fontsource/noto-sans-mongolian"]) {
            const p = lock.packages["node_modules/" + name];
            console.log(`${name} ${p.version} ${p.license}`);
        }'
    echo "# fonttools $FONTTOOLS_VERSION, brotli $BROTLI_VERSION (subsetting)"
    echo "# sha256:"
    (cd "$VENDOR" && find . -type f ! -name VERSIONS.txt | LC_ALL=C sort | xargs sha256sum)
} > "$VENDOR/VERSIONS.txt"

echo ">> done:"
du -ah "$VENDOR" | LC_ALL=C sort -k2
echo "node_modules/ is only needed to run this script (keep it in .gitignore)."
