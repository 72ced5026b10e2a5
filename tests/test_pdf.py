"""PDF rendering of official documents (zongzhi.documents.pdf). No database needed.

Text is extracted with pypdf (pure Python) and, independently, with Debian's pdftotext
(poppler-utils, installed by `make system-deps`).
"""

import io
import re
import subprocess
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from zongzhi.documents.pdf import (
    _BODY,
    FONT_DIR,
    Document,
    Field,
    Fields,
    Paragraphs,
    Signatures,
    Table,
    _cn_numeral,
    _Renderer,
    render_pdf,
)

CREATED = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)

FACTS = (
    "申请人张某某与被申请人李某某系锡林浩特市宝力根街道某小区上下楼邻居。2026 年 1 月 12 日，被申请人家中卫生间"
    "下水管道破裂，污水渗漏至申请人家中，致使申请人家卫生间吊顶、客厅木地板及部分家具受损。申请人多次与被申请人"
    "协商赔偿事宜未果，双方因此发生争执，矛盾有激化趋势。2026 年 1 月 20 日，申请人向锡林浩特市人民调解委员会"
    "申请调解。"
)
PROCESS = (
    "调解委员会受理后，指派人民调解员王某某、记录人赵某某进行调解。调解员实地查看了受损情况，听取了双方当事人的"
    "陈述，调取了物业公司的维修记录（编号 WX-2026-0112-007），并委托第三方评估机构对损失进行了评估，评估金额为"
    "人民币 8,600 元。调解员依据《中华人民共和国民法典》有关规定，向双方讲解了相邻关系中的权利义务，引导双方本着"
    "互谅互让、睦邻友好的原则协商解决纠纷。"
)
TERMS = [
    "被申请人李某某一次性赔偿申请人张某某房屋及财产损失共计人民币捌仟陆佰元整（¥8,600.00），于 2026 年 2 月"
    " 10 日前通过银行转账方式支付至申请人指定账户。",
    "被申请人应于 2026 年 2 月 5 日前委托具备资质的维修单位更换破裂管道，维修期间申请人应当提供必要的便利，"
    "维修费用由被申请人承担。",
    "申请人收到上述款项后，不再就本次漏水事件向被申请人主张任何其他权利；双方今后应当互相尊重、和睦相处。",
    "本协议经双方当事人签名（盖章）、人民调解员签名并加盖人民调解委员会印章后生效。当事人可以自本协议生效之日起"
    "三十日内共同向有管辖权的人民法院申请司法确认。",
    "本协议一式三份，双方当事人各执一份，人民调解委员会留存一份。",
]


def mediation_agreement() -> Document:
    return Document(
        title="人民调解协议书",
        number="锡调字〔2026〕第 0012 号",
        issuer="锡林浩特市人民调解委员会",
        blocks=[
            Fields(
                [
                    ("申请人", "张某某"),
                    ("联系电话", "13800001234"),
                    Field("住所", "锡林浩特市宝力根街道某小区 3 号楼 2 单元 501 室", wide=True),
                    ("被申请人", "李喆"),  # 喆 is not in GB2312: comes from the fallback font
                    ("联系电话", "13900005678"),
                    Field("住所", "锡林浩特市宝力根街道某小区 3 号楼 2 单元 601 室", wide=True),
                ],
                heading="当事人基本情况",
            ),
            Paragraphs("纠纷主要事实及争议事项", [FACTS, PROCESS, FACTS, PROCESS]),
            Paragraphs("经调解，双方当事人自愿达成如下协议：", TERMS, numbered=True),
            Table(
                ["序号", "损失项目", "数量", "评估金额（元）"],
                [["1", "卫生间铝扣板吊顶", "6 平方米", "1,200"], ["2", "客厅实木复合地板", "18 平方米", "5,400"]],
                heading="损失清单",
            ),
            Signatures(
                ["申请人", "被申请人", "人民调解员（签名）"],
                seal_of="锡林浩特市人民调解委员会",
                date_text="2026 年 3 月 18 日",
            ),
        ],
    )


def intake_form() -> Document:
    return Document(
        title="矛盾纠纷受理登记表",
        number="锡综受〔2026〕第 0345 号",
        issuer="锡林浩特市社会治理综合服务中心",
        blocks=[
            Fields(
                [
                    ("登记日期", "2026 年 1 月 20 日"),
                    ("受理方式", "窗口来访"),
                    ("申请人", "张某某"),
                    ("联系电话", "13800001234"),
                    ("纠纷类型", "邻里纠纷"),
                    ("所属网格", "宝力根街道第 3 网格"),
                    Field("纠纷简要情况", FACTS, wide=True),
                    ("受理人", "孙某某"),
                    ("分流去向", "人民调解委员会"),
                    Field("处理意见", "", wide=True, min_lines=4),
                ]
            ),
            Signatures(["登记人（签名）"], date_text="2026 年 1 月 20 日"),
        ],
    )


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def agreement_pdf() -> bytes:
    return render_pdf(mediation_agreement(), creation_date=CREATED)


@pytest.fixture(scope="module")
def intake_pdf() -> bytes:
    return render_pdf(intake_form(), creation_date=CREATED)


def test_fonts_are_vendored() -> None:
    for name in ("zongzhi-sans-sc-400.ttf", "zongzhi-sans-sc-700.ttf", "zongzhi-sans-sc-ext-400.ttf"):
        assert (FONT_DIR / name).stat().st_size > 1_000_000


def test_mediation_agreement(agreement_pdf: bytes) -> None:
    assert agreement_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(agreement_pdf))
    assert len(reader.pages) == 2
    assert reader.metadata is not None
    assert reader.metadata.title == "人民调解协议书"
    assert reader.metadata.author == "锡林浩特市人民调解委员会"
    # Noto Sans SC embedded (regular, bold and the rare-character fallback), as small subsets.
    for name in (b"/MPDFAA+NotoSansSC", b"/MPDFAA+NotoSansSCBold", b"/MPDFAA+NotoSansSCExt"):
        assert name in agreement_pdf
    assert agreement_pdf.count(b"/FontFile2") == 3  # the Mongolian fallback is added only when used
    assert len(agreement_pdf) < 300_000  # each TTF is 2-5 MB: only the used glyphs are embedded

    first, second = pages_text(agreement_pdf)
    assert "人民调解协议书" in first
    assert "锡调字〔2026〕第 0012 号" in first
    assert "李喆" in first
    assert "第 1 页 共 2 页" in first
    assert "第 2 页 共 2 页" in second
    assert "五、本协议一式三份" in squash(second)
    assert "人民调解员（签名）" in second
    assert "（盖章）" in second
    # Every character of the long paragraphs made it, in order, across line breaks.
    everything = squash(first + second)
    for text in (FACTS, PROCESS, *TERMS):
        assert squash(text) in everything


def test_intake_form(intake_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(intake_pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for phrase in ("矛盾纠纷受理登记表", "纠纷简要情况", "窗口来访", "登记人（签名）", "第 1 页 共 1 页"):
        assert phrase in text
    assert squash(FACTS) in squash(text)
    assert intake_pdf.count(b"/FontFile2") == 2  # regular + bold: no fallback font needed, none embedded


def test_deterministic() -> None:
    assert render_pdf(intake_form(), creation_date=CREATED) == render_pdf(intake_form(), creation_date=CREATED)


def test_wrapping_breaks_chinese_and_keeps_punctuation_off_line_starts() -> None:
    renderer = _Renderer(Document(title="t"), CREATED)
    style = _BODY
    width = 60.0
    lines = renderer.wrap(FACTS + PROCESS, style, width, first_indent=8.5)
    assert len(lines) > 10
    assert "".join(line.text for line in lines).replace(" ", "") == (FACTS + PROCESS).replace(" ", "")
    for line in lines:
        assert renderer.text_w(line.text, style) + line.indent <= width + 1e-6
        assert line.text[:1] not in "，。、；：）》"
        assert line.text[-1:] not in "（《"
    assert lines[0].indent == 8.5 and all(line.indent == 0 for line in lines[1:])
    assert all(line.justify for line in lines[:-1]) and not lines[-1].justify
    # A run with no break opportunity longer than a line is cut, not overflowed.
    long_code = renderer.wrap("编号" + "X" * 200, style, width)
    assert len(long_code) > 2
    assert all(renderer.text_w(line.text, style) <= width + 1e-6 for line in long_code)


@pytest.mark.parametrize(
    ("n", "numeral"), [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (99, "九十九"), (100, "100")]
)
def test_chinese_numerals(n: int, numeral: str) -> None:
    assert _cn_numeral(n) == numeral


def test_long_content_breaks_pages_and_repeats_table_header() -> None:
    rows = [[str(i), f"走访记录第 {i} 条：网格员入户了解情况并登记诉求", "已办结"] for i in range(1, 81)]
    doc = Document(
        title="回访记录",
        blocks=[
            # One field far taller than a page: split across pages rather than cut off.
            Fields([Field("回访情况", FACTS * 40, wide=True)]),
            Table(["序号", "内容", "状态"], rows, widths=[1, 6, 1.5]),
        ],
    )
    texts = pages_text(render_pdf(doc, creation_date=CREATED))
    total = len(texts)
    assert total >= 5
    for n, text in enumerate(texts, start=1):
        assert f"第 {n} 页 共 {total} 页" in text
    body = re.sub(r"第\d+页共\d+页", "", squash("".join(texts)))  # drop the page footers
    assert squash(FACTS * 40) in body
    table_pages = [t for t in texts if "走访记录第" in t]
    assert len(table_pages) >= 2
    assert all("序号" in t and "状态" in t for t in table_pages)
    assert "走访记录第80条" in squash(texts[-1])


def test_pdftotext_reads_the_chinese(agreement_pdf: bytes) -> None:
    out = subprocess.run(["pdftotext", "-", "-"], input=agreement_pdf, capture_output=True, check=True).stdout
    text = squash(out.decode("utf-8"))
    for phrase in ("人民调解协议书", "张某某", "李喆", "第1页共2页", "第2页共2页"):
        assert phrase in text
