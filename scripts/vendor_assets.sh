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

"$FONT_VENV/bin/python" - "$NM" "$VENDOR/fonts" <<'PY'
"""Subset Noto Sans SC into woff2 and write fonts.css.

Output (in static/vendor/fonts/):
  noto-sans-sc/zongzhi-sans-sc-gb-{400,700}.woff2
      every character of GB2312 (6,763 hanzi + 682 symbols: CJK punctuation,
      full-width forms, Greek, Cyrillic, kana, pinyin, box drawing, ...) plus
      Latin (ASCII, Latin-1, Latin Extended-A/B incl. pinyin tone letters),
      general punctuation, number forms, arrows, enclosed numbers, shapes,
      CJK symbols, vertical forms, half/full-width forms.
  noto-sans-sc/zongzhi-sans-sc-ext-400.woff2
      the rest of the CJK Unified Ideographs block U+4E00-9FFF (GBK-level and
      name characters such as 镕 啰 堃), regular weight only; the browser only
      fetches it when a page contains such a character.
  noto-sans-mongolian/noto-sans-mongolian-mongolian-400-normal.woff2
      copied unchanged from @fontsource/noto-sans-mongolian.
  fonts.css
"""
import json
import os
import re
import sys

from fontTools import subset

nm, out = sys.argv[1], sys.argv[2]
sc_pkg = os.path.join(nm, "@expo-google-fonts", "noto-sans-sc")
mn_pkg = os.path.join(nm, "@fontsource", "noto-sans-mongolian")


def gb2312_chars():
    chars = set()
    for b1 in range(0xA1, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([b1, b2]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


def span(a, b):
    return set(range(a, b + 1))


GB = gb2312_chars()
GB_HANZI = {c for c in GB if 0x4E00 <= c <= 0x9FFF}
assert len(GB_HANZI) == 6763, len(GB_HANZI)

EXTRA = (
    span(0x0020, 0x007E)      # ASCII
    | span(0x00A0, 0x024F)    # Latin-1, Latin Extended-A/B (pinyin ǎ ǐ ǒ ǔ ǖ ...)
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
MAIN = GB | EXTRA
EXT = span(0x4E00, 0x9FFF) - MAIN


def make(src, unicodes, dest):
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
    covered = set(font.getBestCmap())
    print(f"   {dest}: {os.path.getsize(dest):,} bytes, {len(covered):,} chars")
    return covered


reg = os.path.join(sc_pkg, "400Regular", "NotoSansSC_400Regular.ttf")
bold = os.path.join(sc_pkg, "700Bold", "NotoSansSC_700Bold.ttf")
sc_dir = os.path.join(out, "noto-sans-sc")
c400 = make(reg, MAIN, os.path.join(sc_dir, "zongzhi-sans-sc-gb-400.woff2"))
c700 = make(bold, MAIN, os.path.join(sc_dir, "zongzhi-sans-sc-gb-700.woff2"))
make(reg, EXT, os.path.join(sc_dir, "zongzhi-sans-sc-ext-400.woff2"))
for name, cov in (("400", c400), ("700", c700)):
    missing = GB - cov
    if missing:
        sys.exit(f"GB2312 characters missing from {name} subset: "
                 + "".join(map(chr, sorted(missing))))

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

css = f"""/* GENERATED by scripts/vendor_assets.sh - do not edit by hand.
 *
 * "Zongzhi Sans": Noto Sans SC (SIL OFL 1.1, noto-sans-sc/LICENSE_FONT),
 *   subset from @expo-google-fonts/noto-sans-sc {versions['@expo-google-fonts/noto-sans-sc']}.
 *   gb-*.woff2: all of GB2312 + Latin + punctuation/full-width forms (400, 700).
 *   ext-400.woff2: rest of U+4E00-9FFF, fetched only when such a character occurs
 *   (declared for 700 too, so rare characters in bold text render, unbolded).
 * "Zongzhi Mongolian": Noto Sans Mongolian (SIL OFL 1.1, noto-sans-mongolian/LICENSE),
 *   from @fontsource/noto-sans-mongolian {versions['@fontsource/noto-sans-mongolian']}; weight 400 only
 *   (bold is synthesised).  Use as: font-family: "Zongzhi Mongolian", "Zongzhi Sans";
 */

/* Declared before the GB faces: for overlapping unicode-ranges the browser tries
 * the last-declared face first, so this file is only loaded for characters the
 * GB file lacks. */
@font-face {{
  font-family: "Zongzhi Sans";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url("noto-sans-sc/zongzhi-sans-sc-ext-400.woff2") format("woff2");
  unicode-range: U+4E00-9FFF;
}}

@font-face {{
  font-family: "Zongzhi Sans";
  font-style: normal;
  font-weight: 700;
  font-display: swap;
  src: url("noto-sans-sc/zongzhi-sans-sc-ext-400.woff2") format("woff2");
  unicode-range: U+4E00-9FFF;
}}

@font-face {{
  font-family: "Zongzhi Sans";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url("noto-sans-sc/zongzhi-sans-sc-gb-400.woff2") format("woff2");
}}

@font-face {{
  font-family: "Zongzhi Sans";
  font-style: normal;
  font-weight: 700;
  font-display: swap;
  src: url("noto-sans-sc/zongzhi-sans-sc-gb-700.woff2") format("woff2");
}}

@font-face {{
  font-family: "Zongzhi Mongolian";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url("noto-sans-mongolian/{mn_file}") format("woff2");
  unicode-range: {mn_range};
}}
"""
with open(os.path.join(out, "fonts.css"), "w", encoding="utf-8", newline="\n") as f:
    f.write(css)
print(f"   {os.path.join(out, 'fonts.css')}")
PY

echo ">> PDF fonts (TTF subsets for server-side PDF rendering, zongzhi/documents/pdf.py)"
# PDF libraries (fpdf2) embed TrueType, not woff2.  Same character sets as the
# web files above (read back from their cmaps), so PDF and page cover the same
# text.  Standalone: needs only $NM, the woff2 files above and the font venv.
mkdir -p "$VENDOR/fonts/ttf"
cp "$NM/@expo-google-fonts/noto-sans-sc/LICENSE_FONT" "$VENDOR/fonts/ttf/OFL-noto-sans-sc.txt"
cp "$NM/@fontsource/noto-sans-mongolian/LICENSE" "$VENDOR/fonts/ttf/OFL-noto-sans-mongolian.txt"
"$FONT_VENV/bin/python" - "$NM" "$VENDOR/fonts" <<'PY'
"""Write TTF fonts for PDFs into static/vendor/fonts/ttf/.

  zongzhi-sans-sc-400.ttf, zongzhi-sans-sc-700.ttf
      Noto Sans SC Regular/Bold, exactly the characters of
      noto-sans-sc/zongzhi-sans-sc-gb-{400,700}.woff2 (all of GB2312 + Latin,
      punctuation, CJK symbols, full/half-width forms).
  zongzhi-sans-sc-ext-400.ttf
      Noto Sans SC Regular, the characters of zongzhi-sans-sc-ext-400.woff2
      (rest of U+4E00-9FFF: name characters such as 镕 堃 喆 珺); the PDF
      renderer uses it as a fallback font.
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


def cmap_of(woff2):
    with TTFont(os.path.join(fonts, woff2)) as f:
        return set(f.getBestCmap())


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
make_ttf(reg, cmap_of("noto-sans-sc/zongzhi-sans-sc-gb-400.woff2"), os.path.join(out, "zongzhi-sans-sc-400.ttf"))
make_ttf(bold, cmap_of("noto-sans-sc/zongzhi-sans-sc-gb-700.woff2"), os.path.join(out, "zongzhi-sans-sc-700.ttf"))
make_ttf(reg, cmap_of("noto-sans-sc/zongzhi-sans-sc-ext-400.woff2"), os.path.join(out, "zongzhi-sans-sc-ext-400.ttf"))

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

echo ">> axe-core (for the accessibility test only: tests/vendor, never served)"
AXE_DIR="tests/vendor/axe-core"
mkdir -p "$AXE_DIR"
cp "$NM/axe-core/axe.min.js" "$NM/axe-core/LICENSE" "$AXE_DIR/"
{
    node -e 'const p = require("./package-lock.json").packages["node_modules/axe-core"];
             console.log(`axe-core ${p.version} ${p.license} (npm, pinned in package.json; copied by scripts/vendor_assets.sh)`);'
    (cd "$AXE_DIR" && sha256sum axe.min.js LICENSE)
} > "$AXE_DIR/VERSION.txt"

echo ">> done:"
du -ah "$VENDOR" | LC_ALL=C sort -k2
echo "node_modules/ is only needed to run this script (keep it in .gitignore)."
