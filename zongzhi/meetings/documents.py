"""The meeting pack: agenda, minutes and decisions, as an A4 PDF and as an XLSX workbook.

The pack names cases (number, title, category, state, lead org) and no one's personal data.
"""

import datetime
import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from zongzhi import sheets
from zongzhi.cases.models import State
from zongzhi.documents.pdf import Document, Fields, Paragraphs, Table, render_pdf

from .models import AgendaItem, DispatchMeeting

AGENDA_HEADERS = ["序号", "案件编号", "纠纷标题", "类别", "列入原因", "当时状态", "办理期限", "主办单位"]
DECISION_HEADERS = ["序号", "案件编号", "会商情况", "会议决定", "督办文书", "反馈期限"]


def _date(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if isinstance(value, datetime.datetime) else value
    return f"{local.year}年{local.month}月{local.day}日"


def _day(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def _agenda_row(item: AgendaItem) -> list[str]:
    return [
        str(item.order),
        item.case.number,
        item.case.title,
        item.case.category.name,
        "、".join(item.reason_labels()),
        str(State(item.state).label),
        _day(item.due_at),
        item.lead_org,
    ]


def _decision_row(item: AgendaItem) -> list[str]:
    supervision = item.supervision
    return [
        str(item.order),
        item.case.number,
        item.discussion,
        item.decision or "（未议）",
        f"{supervision.get_kind_display()} {supervision.number}" if supervision else "",
        _day(supervision.deadline) if supervision else "",
    ]


def pack_pdf(meeting: DispatchMeeting) -> bytes:
    items = list(meeting.items.all())
    minutes = [p for p in meeting.minutes.splitlines() if p.strip()] or ["（尚未填写）"]
    document = Document(
        title=meeting.title,
        number=f"{meeting.center.name} · {meeting.get_status_display()}",
        issuer=meeting.center.name,
        blocks=[
            Fields(
                rows=[
                    ("会议日期", _date(meeting.held_on)),
                    ("主持人", meeting.chair.full_name or meeting.chair.username),
                    ("议题数", str(len(items))),
                    ("已作决定", str(sum(1 for i in items if i.decision))),
                ]
            ),
            Paragraphs("参会单位和人员", [meeting.attendees or "—"]),
            Table(
                AGENDA_HEADERS,
                [_agenda_row(i) for i in items],
                widths=[5, 23, 15, 7, 11, 7, 13, 13],
                heading="会议议程",
            ),
            Paragraphs("会议纪要", minutes),
            Table(
                DECISION_HEADERS, [_decision_row(i) for i in items], widths=[5, 23, 14, 20, 16, 13], heading="决定事项"
            ),
        ],
    )
    return render_pdf(document)


def pack_xlsx(meeting: DispatchMeeting) -> bytes:
    workbook = Workbook()
    agenda = workbook.active
    assert agenda is not None
    agenda.title = "会议议程"
    sheets.append(agenda, [meeting.title])
    sheets.append(agenda, [f"{meeting.center.name}　会议日期：{_date(meeting.held_on)}　主持人：{meeting.chair}"])
    sheets.append(agenda, AGENDA_HEADERS)
    items = list(meeting.items.all())
    for item in items:
        sheets.append(agenda, _agenda_row(item))
    decisions = workbook.create_sheet("决定事项")
    sheets.append(decisions, DECISION_HEADERS)
    for item in items:
        sheets.append(decisions, _decision_row(item))
    minutes = workbook.create_sheet("会议纪要")
    sheets.append(minutes, ["参会单位和人员", meeting.attendees])
    sheets.append(minutes, ["会议纪要", meeting.minutes])
    for sheet, header_row in ((agenda, 3), (decisions, 1)):
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        for column, width in zip("ABCDEFGH", (6, 20, 30, 12, 18, 10, 16, 22), strict=False):
            sheet.column_dimensions[column].width = width
    agenda["A1"].font = Font(bold=True, size=14)
    minutes.column_dimensions["B"].width = 80
    minutes["B2"].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
