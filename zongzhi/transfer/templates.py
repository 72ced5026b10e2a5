"""The XLSX template of each import kind: Chinese headers (* = required), an example row, a note on
every column (as a comment on the header and on a 填写说明 sheet)."""

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from zongzhi import sheets
from zongzhi.transfer.engine import ImportKind
from zongzhi.transfer.reader import column_letter

TEXT_COLUMNS = {"id_number", "phone", "party_id", "party_phone", "household", "grid", "code", "original", "region"}
TEXT_ROWS = 1000  # cells formatted as text below the header, so long numbers are not turned into 1.5E+17


def template_xlsx(kind: ImportKind) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(kind.label)
    required = PatternFill("solid", fgColor="FDE68A")
    for position, column in enumerate(kind.columns):
        cell = sheet.cell(row=1, column=position + 1, value=("*" if column.required else "") + column.header)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = required
        if column.note:
            cell.comment = Comment(column.note, "综治中心信息平台")
        example = sheet.cell(row=2, column=position + 1, value=column.example or None)
        letter = column_letter(position)
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        if column.key in TEXT_COLUMNS:
            example.number_format = "@"
            for row in range(3, TEXT_ROWS + 3):
                sheet.cell(row=row, column=position + 1).number_format = "@"
    notes = book.create_sheet("填写说明")
    sheets.append(notes, ["列名", "是否必填", "说明", "也可写作"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in kind.columns:
        sheets.append(
            notes, [column.header, "必填" if column.required else "选填", column.note, "、".join(column.synonyms)]
        )
    sheets.append(notes, [])
    sheets.append(
        notes,
        ["第 2 行是示例，导入前请删除或改为真实数据。日期可写 2025-03-05、2025年3月5日、2025.3.5 或 2025/03/05。"],
    )
    notes.column_dimensions["C"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
