"""The printed documents of a case, built once as data and rendered both as an A4 page and as PDF.

受理登记表 (intake), 人民调解协议书 (agreement), 司法确认申请书 (confirmation), 督办函 (supervision
letter), 回访记录 (follow-up). Every text goes through gettext, so the same builders give the
Chinese document and the traditional Mongolian one (`lang="mn"`, set vertically); `lang="bi"`
gives both, Mongolian first, in one file.

Parties' ID numbers and phones are masked, and birth dates left out, unless `full=True`: the copy
the parties sign and the court receives, printed only through `services.document_print_unmasked`.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zongzhi.cases import selectors
from zongzhi.cases.models import Case, Party
from zongzhi.cases.presenters import mask_id
from zongzhi.centers.models import Org
from zongzhi.documents.pdf import Block, Document, Field, Fields, Paragraphs, Signatures, Table, render_pdf
from zongzhi.identity import mask_phone

DOCS = ("intake", "agreement", "confirmation", "supervision", "follow_up")
# Documents with a copy bearing the parties' full particulars (signed by them, sent to the court).
FULL_COPY_DOCS = ("agreement", "confirmation")
LANGS = ("zh", "mn", "bi")
MEDIATING = (
    Org.Kind.MEDIATION_COMMITTEE,
    Org.Kind.BRAND_ROOM,
    Org.Kind.INDUSTRY_COMMITTEE,
    Org.Kind.PROFESSIONAL_TEAM,
)
CONFIRMATION_DAYS = 30  # 民事诉讼法: apply within 30 days of the agreement taking effect


def title(doc: str) -> str:
    titles = {
        "intake": _("矛盾纠纷受理登记表"),
        "agreement": _("人民调解协议书"),
        "confirmation": _("司法确认申请书"),
        "supervision": _("督办函"),
        "follow_up": _("回访记录"),
    }
    return titles.get(doc, doc)


def _date(value: datetime.date | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if isinstance(value, datetime.datetime) else value
    return _("%(y)s年%(m)s月%(d)s日") % {"y": local.year, "m": local.month, "d": local.day}


def _yuan(amount: Decimal | None) -> str:
    return _("%(a)s 元") % {"a": amount} if amount is not None else "—"


@dataclass(frozen=True)
class Particulars:
    """What a document says of a party: full, or masked for a copy anyone handling the case may print."""

    role: str
    name: str
    kind: str
    sex: str
    ethnicity: str
    birth: str
    id_label: str
    id_number: str
    address: str
    phone: str


def _from_resident_id(number: str) -> tuple[str, datetime.date | None]:
    """Sex and birth date as a GB 11643 resident ID encodes them (digits 7-14, and the 17th: odd for men)."""
    if len(number) != 18 or not number[:17].isdigit():
        return "", None
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "", None
    return (_("男") if int(number[16]) % 2 else _("女")), born


def particulars(party: Party, registry: dict[int, tuple[str, str]], full: bool) -> Particulars:
    sex, born = _from_resident_id(party.id_number) if party.kind == Party.Kind.PERSON else ("", None)
    id_labels = {
        Party.Kind.PERSON.value: _("公民身份号码"),
        Party.Kind.ORGANISATION.value: _("统一社会信用代码"),
        Party.Kind.FOREIGNER.value: _("护照号码"),
    }
    id_label = id_labels.get(party.kind, _("证件号码"))
    return Particulars(
        role=str(party.get_role_display()),
        name=party.name,
        kind=str(party.get_kind_display()),
        sex=sex,
        ethnicity=registry.get(party.pk, ("", ""))[0],
        birth=_date(born) if full else "",
        id_label=id_label,
        id_number=party.id_number if full else mask_id(party.kind, party.id_number),
        address=party.address,
        phone=party.phone if full else mask_phone(party.phone),
    )


def _party_blocks(case: Case, full: bool) -> list[Block]:
    """One grid per party: name, sex, ethnicity, birth date, ID, address, phone (the MoJ template's order)."""
    registry = selectors.parties_in_registry(case)
    blocks: list[Block] = []
    for n, party in enumerate(case.parties.all()):
        p = particulars(party, registry, full)
        if party.kind == Party.Kind.ORGANISATION:
            rows: list[tuple[str, str] | Field] = [(p.role, p.name), (p.id_label, p.id_number)]
        else:
            rows = [(p.role, p.name), (_("性别"), p.sex), (_("民族"), p.ethnicity), (_("出生日期"), p.birth)]
            rows.append(Field(p.id_label, p.id_number, wide=True))
        rows += [Field(_("住址"), p.address, wide=True), (_("联系电话"), p.phone)]
        blocks.append(Fields(rows=rows, heading=_("当事人基本情况") if n == 0 else None))
    return blocks


def _party_table(case: Case) -> Table:
    registry = selectors.parties_in_registry(case)
    rows = []
    for party in case.parties.all():
        p = particulars(party, registry, full=False)
        rows.append([p.role, p.name, p.kind, p.id_number, p.phone, p.address])
    return Table(
        headers=[_("身份"), _("姓名/名称"), _("类型"), _("证件号码"), _("联系电话"), _("住址")],
        rows=rows,
        heading=_("当事人"),
    )


def committee_of(case: Case) -> Org | None:
    """The mediation organisation that mediated: the lead handler if it is one, else a co-handler, else
    the organisation whose room the sessions were held in. Never a department: 司法局 does not seal
    people's mediation agreements."""
    handling = [a for a in case.assignments.all() if a.status in ("signed", "done")]
    for assignment in sorted(handling, key=lambda a: a.role != "lead"):
        if assignment.org.kind in MEDIATING:
            return assignment.org
    for session in case.sessions.all():
        if session.room is not None and session.room.org is not None and session.room.org.kind in MEDIATING:
            return session.room.org
    return None


def mediators_of(case: Case, committee: Org | None) -> list[str]:
    """Who mediated, as the session records name them (a brand room's own mediator otherwise)."""
    names: list[str] = []
    for session in case.sessions.all():
        for name in session.mediators.replace("，", "、").replace(",", "、").replace("；", "、").split("、"):
            if name.strip() and name.strip() not in names:
                names.append(name.strip())
    if not names and committee is not None and committee.mediator_name:
        names.append(committee.mediator_name)
    return names


def _copy_note(full: bool) -> str:
    if full:
        return _("（当事人签署及报送人民法院文本）")
    return _("（查阅文本：证件号码、联系电话已遮蔽）")


def _agreement(case: Case, full: bool) -> Document:
    agreement = getattr(case, "agreement", None)
    if agreement is None:
        raise Http404
    committee = committee_of(case)
    issuer = committee.name if committee else _("＿＿＿＿＿＿人民调解委员会")
    mediators = mediators_of(case, committee)
    blocks: list[Block] = [
        *_party_blocks(case, full),
        Paragraphs(_("纠纷的主要事实、争议事项"), [agreement.facts]),
        Paragraphs(
            _("经调解，当事人自愿达成如下协议"),
            [t for t in agreement.terms.splitlines() if t.strip()],
        ),
        Fields(
            rows=[
                (_("协议金额"), _yuan(agreement.amount)),
                (_("履行期限"), _date(agreement.performance_due)),
                Field(_("履行方式"), agreement.performance_method, wide=True),
                Field(_("履行地点"), agreement.performance_place or "—", wide=True),
            ],
            heading=_("履行方式、时限"),
        ),
    ]
    instalments = list(agreement.instalments.all())
    if instalments:
        blocks.append(
            Table(
                headers=[_("期次"), _("履行日期"), _("金额")],
                rows=[[str(n), _date(i.due_on), _yuan(i.amount)] for n, i in enumerate(instalments, start=1)],
                heading=_("分期履行"),
            )
        )
    blocks += [
        Paragraphs(
            None,
            [
                _("本协议自各方当事人签名（盖章）、人民调解员签名并加盖人民调解委员会印章之日起生效。"),
                _(
                    "本协议一式三份，当事人各执一份，人民调解委员会留存一份。"
                    "当事人可以自协议生效之日起三十日内共同向人民法院申请司法确认。"
                ),
            ],
        ),
        Signatures(
            parties=[
                _("%(role)s %(name)s（签名、盖章或按指印）") % {"role": p.get_role_display(), "name": p.name}
                for p in case.parties.all()
            ]
            + [_("人民调解员 %(names)s（签名）") % {"names": "、".join(mediators)}, _("记录人（签名）")],
            seal_of=issuer,
            date_text=_date(agreement.signed_on),
        ),
    ]
    number = _("编号：%(n)s") % {"n": agreement.number}
    return Document(title=title("agreement"), number=f"{number} {_copy_note(full)}", issuer=issuer, blocks=blocks)


def court_of(case: Case) -> Org | None:
    """The court a 司法确认 goes to: the one it was referred to, else the basic court of the case's county."""
    referral = next((r for r in case.court_referrals.all() if r.kind == "confirmation"), None)
    if referral is not None:
        return referral.court
    return selectors.county_court(case)


def confirmation_deadline(case: Case) -> datetime.date | None:
    agreement = getattr(case, "agreement", None)
    return agreement.signed_on + datetime.timedelta(days=CONFIRMATION_DAYS) if agreement else None


def _confirmation(case: Case, full: bool) -> Document:
    agreement = getattr(case, "agreement", None)
    if agreement is None:
        raise Http404
    committee = committee_of(case)
    committee_name = committee.name if committee else _("＿＿＿＿＿＿人民调解委员会")
    court = court_of(case)
    court_name = court.name if court else _("＿＿＿＿＿＿人民法院")
    deadline = confirmation_deadline(case)
    facts = {
        "date": _date(agreement.signed_on),
        "committee": committee_name,
        "number": agreement.number,
        "category": case.category.name,
    }
    return Document(
        title=title("confirmation"),
        number=_copy_note(full),
        blocks=[
            *_party_blocks(case, full),
            Paragraphs(
                _("请求事项"),
                [_("请求确认申请人于%(date)s经%(committee)s主持调解达成的第%(number)s号人民调解协议有效。") % facts],
            ),
            Paragraphs(
                _("事实和理由"),
                [
                    _(
                        "申请人因%(category)s纠纷，于%(date)s经%(committee)s主持调解，自愿达成调解协议。"
                        "该协议是申请人的真实意思表示，内容不违反法律、行政法规的强制性规定，"
                        "不损害国家利益、社会公共利益和他人合法权益。"
                    )
                    % facts,
                    _(
                        "根据《中华人民共和国人民调解法》第三十三条和《中华人民共和国民事诉讼法》关于确认调解协议"
                        "案件的规定，申请人自调解协议生效之日起三十日内共同提出申请（%(deadline)s前），"
                        "请予确认。申请人保证提交的材料真实合法，如因虚假陈述造成损失，愿承担相应法律责任。"
                    )
                    % {"deadline": _date(deadline)},
                    _("此致"),
                    court_name,
                ],
            ),
            Paragraphs(
                _("附"),
                [_("1. 人民调解协议书一份；"), _("2. 申请人身份证明材料；"), _("3. 与调解协议相关的证明材料。")],
                indent=False,
            ),
            Signatures(
                parties=[_("申请人 %(name)s（签名、盖章或按指印）") % {"name": p.name} for p in case.parties.all()],
                date_text=_("　　年　　月　　日"),
            ),
        ],
    )


def _intake(case: Case) -> Document:
    lead = next((a.org.name for a in case.assignments.all() if a.role == "lead"), "")
    return Document(
        title=title("intake"),
        number=_("编号：%(n)s") % {"n": case.number},
        issuer=case.center.name,
        blocks=[
            Fields(
                rows=[
                    (_("登记时间"), _date(case.registered_at)),
                    (_("来源渠道"), str(case.get_channel_display())),
                    (_("纠纷类别"), case.category.name),
                    (_("风险等级"), str(case.get_risk_level_display())),
                    (_("发生地"), case.region.name),
                    (_("发生日期"), _date(case.occurred_on) or "—"),
                    Field(_("具体地点"), case.location or "—", wide=True),
                    (_("涉及金额"), _yuan(case.amount)),
                    (_("涉及人数"), str(case.people_involved)),
                    (_("涉外"), _("是") if case.foreign_related else _("否")),
                    (_("承办单位"), lead or "—"),
                    Field(_("事由"), case.title, wide=True),
                    Field(_("纠纷情况"), case.description, wide=True, min_lines=4),
                    Field(_("风险依据"), "；".join(case.risk_reasons), wide=True),
                    Field(_("处理意见"), "", wide=True, min_lines=3),
                ]
            ),
            _party_table(case),
            Signatures(
                parties=[_("申请人"), _("受理人（首问责任人：%(owner)s）") % {"owner": case.owner}],
                seal_of=case.center.name,
                date_text=_date(case.registered_at),
            ),
        ],
    )


def _supervision(case: Case, supervision_id: str | None) -> Document:
    supervision = next((s for s in case.supervisions.all() if str(s.pk) == str(supervision_id)), None)
    if supervision is None:
        raise Http404
    addressee = supervision.target_org or supervision.target_center or case.center
    facts = {"number": case.number, "title": case.title, "category": case.category.name, "region": case.region.name}
    return Document(
        title=str(supervision.get_kind_display()),
        number=supervision.number,
        issuer=supervision.issuer_center.name,
        blocks=[
            Paragraphs(
                None,
                [
                    f"{addressee.name}：",
                    _("你单位承办的 %(number)s 号“%(title)s”（%(category)s，%(region)s），") % facts
                    + supervision.reason,
                    _("请于 %(date)s 前将办理情况书面反馈。") % {"date": _date(supervision.deadline)},
                ],
                indent=False,
            ),
            Fields(
                rows=[
                    (_("案件编号"), case.number),
                    (_("当前状态"), str(case.get_state_display())),
                    (_("办理期限"), _date(case.due_at) or "—"),
                    (_("反馈期限"), _date(supervision.deadline)),
                    Field(_("反馈情况"), supervision.reply, wide=True, min_lines=3),
                    Field(
                        _("督办问效"), str(supervision.get_effect_display()) if supervision.effect else "", wide=True
                    ),
                ]
            ),
            Signatures(seal_of=supervision.issuer_center.name, date_text=_date(supervision.issued_at)),
        ],
    )


def _follow_up(case: Case) -> Document:
    follow_ups = list(case.follow_ups.all())
    rows = [
        [_date(f.at), f.method, str(f.get_performance_display()), str(f.get_satisfaction_display()), f.note]
        for f in follow_ups
    ]
    latest = max((f.at for f in follow_ups), default=None)
    return Document(
        title=title("follow_up"),
        number=_("编号：%(n)s") % {"n": case.number},
        issuer=case.center.name,
        blocks=[
            Fields(
                rows=[
                    (_("案件编号"), case.number),
                    (_("事由"), case.title),
                    (_("结案时间"), _date(case.closed_at)),
                    (_("结案方式"), str(case.get_outcome_display()) or "—"),
                ]
            ),
            Table(
                headers=[_("回访时间"), _("方式"), _("履行情况"), _("满意度"), _("记录")],
                rows=rows or [["", "", "", "", ""]],
                heading=_("回访情况"),
            ),
            # Dated as the follow-up was made, not as it is printed.
            Signatures(parties=[_("回访人"), _("被回访人")], date_text=_date(latest)),
        ],
    )


def _one(case: Case, doc: str, item: str | None, full: bool, lang: str) -> Document:
    builders: dict[str, Callable[[], Document]] = {
        "intake": lambda: _intake(case),
        "agreement": lambda: _agreement(case, full),
        "confirmation": lambda: _confirmation(case, full),
        "supervision": lambda: _supervision(case, item),
        "follow_up": lambda: _follow_up(case),
    }
    if doc not in builders:
        raise Http404
    with translation.override("mn" if lang == "mn" else "zh-hans"):
        document = builders[doc]()
    document.lang = lang
    return document


def build(case: Case, doc: str, item: str | None = None, *, full: bool = False, lang: str = "zh") -> list[Document]:
    """The document `doc` of the case: one Document, or for `lang="bi"` the Mongolian and the Chinese."""
    if lang not in LANGS or (full and doc not in FULL_COPY_DOCS):
        raise Http404
    selectors.with_documents_read(case)
    if lang == "bi":
        return [_one(case, doc, item, full, "mn"), _one(case, doc, item, full, "zh")]
    return [_one(case, doc, item, full, lang)]


def prefers_mongolian(case: Case) -> bool:
    """Whether a party's usual language in the population registry is Mongolian: offer the bilingual text."""
    return any(language == "mn" for _ethnicity, language in selectors.parties_in_registry(case).values())


def pdf(documents: list[Document]) -> bytes:
    return render_pdf(documents)


def filename(case: Case, doc: str, lang: str = "zh") -> str:
    with translation.override("zh-hans"):
        name = title(doc)
    suffix = {"zh": "", "mn": "-蒙古文", "bi": "-蒙汉"}.get(lang, "")
    return quote(f"{name}{suffix}-{case.number}.pdf")
