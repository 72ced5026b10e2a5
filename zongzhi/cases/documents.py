"""The printed documents of a case, built once as data and rendered both as an A4 page and as PDF.

受理登记表 (intake), 调解协议书 (agreement), 督办函 (supervision letter), 回访记录 (follow-up).
"""

import datetime
from urllib.parse import quote

from django.http import Http404
from django.utils import timezone

from zongzhi.cases.models import Case
from zongzhi.cases.presenters import mask_id
from zongzhi.documents.pdf import Document, Field, Fields, Paragraphs, Signatures, Table, render_pdf
from zongzhi.identity import mask_phone

TITLES = {
    "intake": "矛盾纠纷受理登记表",
    "agreement": "人民调解协议书",
    "supervision": "督办函",
    "follow_up": "回访记录",
}


def _date(value: datetime.date | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if isinstance(value, datetime.datetime) else value
    return f"{local.year}年{local.month}月{local.day}日"


def _party_rows(case: Case) -> list[list[str]]:
    return [
        [
            p.get_role_display(),
            p.name,
            p.get_kind_display(),
            mask_id(p.kind, p.id_number),
            mask_phone(p.phone),
            p.address,
        ]
        for p in case.parties.all()
    ]


def _intake(case: Case) -> Document:
    return Document(
        title=TITLES["intake"],
        number=f"编号：{case.number}",
        issuer=case.center.name,
        blocks=[
            Fields(
                rows=[
                    ("登记时间", _date(case.registered_at)),
                    ("来源渠道", case.get_channel_display()),
                    ("纠纷类别", case.category.name),
                    ("风险等级", case.get_risk_level_display()),
                    ("发生地", case.region.name),
                    ("涉及金额", f"{case.amount} 元" if case.amount is not None else "—"),
                    ("涉及人数", str(case.people_involved)),
                    ("涉外", "是" if case.foreign_related else "否"),
                    Field("事由", case.title, wide=True),
                    Field("纠纷情况", case.description, wide=True, min_lines=4),
                    Field("风险依据", "；".join(case.risk_reasons), wide=True),
                    Field("处理意见", "", wide=True, min_lines=3),
                ]
            ),
            Table(
                headers=["身份", "姓名/名称", "类型", "证件号码", "联系电话", "住址"],
                rows=_party_rows(case),
                heading="当事人",
            ),
            Signatures(
                parties=["申请人", f"受理人（首问责任人：{case.owner}）"],
                seal_of=case.center.name,
                date_text=_date(case.registered_at),
            ),
        ],
    )


def _agreement(case: Case) -> Document:
    agreement = getattr(case, "agreement", None)
    if agreement is None:
        raise Http404
    parties = list(case.parties.all())
    committee = next((a.org.name for a in case.assignments.all() if a.role == "lead"), case.center.name)
    instalments = [
        [_date(i.due_on), f"{i.amount} 元", _date(i.paid_on) or "未付", i.receipt_number]
        for i in agreement.instalments.all()
    ]
    blocks: list = [
        Table(
            headers=["身份", "姓名/名称", "类型", "证件号码", "联系电话", "住址"],
            rows=_party_rows(case),
            heading="当事人",
        ),
        Paragraphs("纠纷的主要事实、争议事项", [agreement.facts]),
        Paragraphs("经调解，当事人自愿达成如下协议", [t for t in agreement.terms.splitlines() if t.strip()]),
        Fields(
            rows=[
                ("协议金额", f"{agreement.amount} 元" if agreement.amount is not None else "—"),
                ("履行方式", agreement.performance_method),
                ("履行地点", agreement.performance_place or "—"),
                ("履行期限", _date(agreement.performance_due)),
            ],
            heading="履行",
        ),
    ]
    if instalments:
        blocks.append(Table(headers=["应付日期", "金额", "实付日期", "收据号"], rows=instalments, heading="分期履行"))
    blocks += [
        Paragraphs(
            None,
            [
                "本协议自各方当事人签名（盖章）、人民调解员签名并加盖人民调解委员会印章之日起生效。",
                "本协议一式三份，当事人各执一份，人民调解委员会留存一份。当事人可以自协议生效之日起三十日内共同向人民法院申请司法确认。",
            ],
        ),
        Signatures(
            parties=[f"{p.get_role_display()}：{p.name}" for p in parties] + ["人民调解员"],
            seal_of=committee,
            date_text=_date(agreement.signed_on),
        ),
    ]
    return Document(title=TITLES["agreement"], number=f"编号：{agreement.number}", issuer=committee, blocks=blocks)


def _supervision(case: Case, supervision_id: str | None) -> Document:
    supervision = next((s for s in case.supervisions.all() if str(s.pk) == str(supervision_id)), None)
    if supervision is None:
        raise Http404
    addressee = supervision.target_org or supervision.target_center or case.center
    target = addressee.name
    return Document(
        title=supervision.get_kind_display(),
        number=supervision.number,
        issuer=supervision.issuer_center.name,
        blocks=[
            Paragraphs(
                None,
                [
                    f"{target}：",
                    f"你单位承办的 {case.number} 号“{case.title}”（{case.category.name}，"
                    f"{case.region.name}），{supervision.reason}",
                    f"请于 {_date(supervision.deadline)} 前将办理情况书面反馈。",
                ],
                indent=False,
            ),
            Fields(
                rows=[
                    ("案件编号", case.number),
                    ("当前状态", case.get_state_display()),
                    ("办理期限", _date(case.due_at) or "—"),
                    ("反馈期限", _date(supervision.deadline)),
                    Field("反馈情况", supervision.reply, wide=True, min_lines=3),
                    Field("督办问效", supervision.get_effect_display() if supervision.effect else "", wide=True),
                ]
            ),
            Signatures(seal_of=supervision.issuer_center.name, date_text=_date(supervision.issued_at)),
        ],
    )


def _follow_up(case: Case) -> Document:
    rows = [
        [_date(f.at), f.method, f.get_performance_display(), f.get_satisfaction_display(), f.note]
        for f in case.follow_ups.all()
    ]
    return Document(
        title=TITLES["follow_up"],
        number=f"编号：{case.number}",
        issuer=case.center.name,
        blocks=[
            Fields(
                rows=[
                    ("案件编号", case.number),
                    ("事由", case.title),
                    ("结案时间", _date(case.closed_at)),
                    ("结案方式", case.get_outcome_display() or "—"),
                ]
            ),
            Table(
                headers=["回访时间", "方式", "履行情况", "满意度", "记录"],
                rows=rows or [["", "", "", "", ""]],
                heading="回访情况",
            ),
            Signatures(parties=["回访人", "被回访人"], date_text=_date(timezone.now())),
        ],
    )


def build(case: Case, doc: str, item: str | None = None) -> Document:
    if doc == "intake":
        return _intake(case)
    if doc == "agreement":
        return _agreement(case)
    if doc == "supervision":
        return _supervision(case, item)
    if doc == "follow_up":
        return _follow_up(case)
    raise Http404


def pdf(document: Document) -> bytes:
    return render_pdf(document)


def filename(case: Case, doc: str) -> str:
    return quote(f"{TITLES.get(doc, doc)}-{case.number}.pdf")
