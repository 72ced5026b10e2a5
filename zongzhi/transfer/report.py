"""What an import found and did: the problems (sheet, row, column, Chinese reason) and the counts."""

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

KEPT_PROBLEMS = 1000  # the report keeps this many; every one is in the rejected-rows file and the CLI output


@dataclass(frozen=True)
class Problem:
    """One reason a row (or the whole file, row = header row) cannot be imported."""

    sheet: str
    row: int
    column: str  # the header as the file spells it, with its letter: "C列（身份证号）"
    reason: str

    def line(self) -> str:
        where = _("工作表“%(sheet)s” 第 %(row)d 行") % {"sheet": self.sheet, "row": self.row}
        if self.column:
            where += f" {self.column}"
        return f"{where}：{self.reason}"


@dataclass
class Report:
    """The result of a run, the same on the web page, in the CLI and in the job record."""

    kind: str
    file_name: str
    dry_run: bool = False
    accept_valid: bool = False
    rows: int = 0  # data rows read (empty rows not counted)
    valid: int = 0
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    written: bool = False
    cancelled: bool = False
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    detail: dict[str, int] = field(default_factory=dict)  # e.g. households inserted / updated

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and self.problem_count == 0 and not self.cancelled

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Report":
        data = dict(data)
        data["problems"] = [Problem(**p) for p in data.get("problems", [])]
        return cls(**data)

    def outcome(self) -> str:
        """One sentence saying what happened to the database."""
        if self.cancelled:
            return _("导入已取消，未写入任何数据。")
        if self.dry_run:
            return _("试运行：仅检查，未写入任何数据。")
        if not self.written:
            return _("发现问题，未写入任何数据（全部正确才导入；也可选择“只导入正确的行”）。")
        if self.rejected:
            return _("已导入正确的行，有问题的行未导入，请下载退回文件修改后重新上传。")
        return _("全部导入完成。")

    def lines(self) -> list[str]:
        """The report as text lines: the CLI prints them, the page shows the same figures."""
        out = [
            _("文件：%(name)s（%(kind)s）") % {"name": self.file_name, "kind": self.kind},
            _("读取 %(rows)d 行：正确 %(valid)d 行，有问题 %(rejected)d 行。")
            % {"rows": self.rows, "valid": self.valid, "rejected": self.rejected},
            _("新增 %(inserted)d，更新 %(updated)d，未变 %(unchanged)d，退回 %(rejected)d。")
            % {
                "inserted": self.inserted,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "rejected": self.rejected,
            },
        ]
        for label, number in self.detail.items():
            out.append(f"{label}：{number}")
        out.append(self.outcome())
        if self.problem_count:
            out.append(_("问题 %(n)d 个：") % {"n": self.problem_count})
            out += [f"  {p.line()}" for p in self.problems]
            if self.problem_count > len(self.problems):
                out.append(_("  另有 %(n)d 个问题，见退回文件。") % {"n": self.problem_count - len(self.problems)})
        return out
