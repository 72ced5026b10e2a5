"""Monthly joint dispatch meetings: the agenda is the jurisdiction's weighty open cases, decisions
issue supervision documents, the pack comes out as PDF and XLSX, and every download is audited."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import verified_client
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.cases.models import OPEN_STATES, Case, Supervision
from zongzhi.meetings import selectors, services
from zongzhi.meetings.models import AgendaItem, DispatchMeeting
from zongzhi.regions.models import Region

XILINHOT = "152502000000"


def who(name: str) -> User:
    return User.objects.get(username=name)


def weighty(prefix: str) -> set[str]:
    """Recount, case by case, which open cases of the jurisdiction belong on the agenda."""
    now = timezone.now()
    supervised = set(Supervision.objects.filter(status="open").values_list("case_id", flat=True))
    return {
        c.number
        for c in Case.objects.filter(region_code__startswith=prefix, state__in=OPEN_STATES)
        if c.major or c.escalations > 0 or (c.due_at and c.due_at < now) or c.pk in supervised
    }


@pytest.fixture
def xilinhot_meeting(db) -> DispatchMeeting:  # type: ignore[no-untyped-def]
    return services.meeting_open(
        actor=who("demo-director"),
        region=Region.objects.get(code=XILINHOT),
        held_on=timezone.localdate(),
        attendees="法院、检察院、公安局、司法局、信访局",
    )


def test_the_agenda_is_every_weighty_open_case_of_the_jurisdiction(xilinhot_meeting: DispatchMeeting) -> None:
    items = list(xilinhot_meeting.items.select_related("case"))
    expected = weighty("152502")
    assert expected, "the demo history has overdue and supervised cases in Xilinhot"
    assert {i.case.number for i in items} == expected
    assert all(i.case.region_code.startswith("152502") for i in items)
    assert [i.order for i in items] == list(range(1, len(items) + 1))
    # The weightiest first: major cases, then escalated, supervised, overdue.
    weights = [min(services.WEIGHT[AgendaItem.Reason(r)] for r in i.reasons.split(",")) for i in items]
    assert weights == sorted(weights)
    assert (
        xilinhot_meeting.title
        == f"{timezone.localdate().year}年{timezone.localdate().month}月锡林浩特市矛盾纠纷联席调度会议"
    )


def test_a_township_meeting_has_only_the_township(db) -> None:  # type: ignore[no-untyped-def]
    league = who("demo-league")
    townships = Region.objects.filter(code__startswith="152502", level=Region.Level.TOWNSHIP).order_by("code")
    township = next(t for t in townships if weighty(t.prefix))
    meeting = services.meeting_open(actor=league, region=township, held_on=timezone.localdate())
    assert {i.case.number for i in meeting.items.select_related("case")} == weighty(township.prefix)
    assert len(weighty(township.prefix)) < len(weighty("152502"))


def test_who_may_convene_and_bad_input(xilinhot_meeting: DispatchMeeting) -> None:
    xilinhot = Region.objects.get(code=XILINHOT)
    with pytest.raises(ValidationError) as error:  # one meeting per jurisdiction and month
        services.meeting_open(actor=who("demo-leader"), region=xilinhot, held_on=timezone.localdate())
    assert "已经建立" in str(error.value)
    with pytest.raises(PermissionDenied):
        services.meeting_open(
            actor=who("demo-intake"), region=xilinhot, held_on=timezone.localdate() + datetime.timedelta(days=31)
        )
    with pytest.raises(Http404):  # another county's director: not theirs, as if missing
        services.meeting_open(actor=who("director-152531"), region=xilinhot, held_on=timezone.localdate())
    with pytest.raises(Http404):
        selectors.meeting_get(who("director-152531"), xilinhot_meeting.pk)
    village = Region.objects.filter(code__startswith="152502", level=Region.Level.VILLAGE).first()
    assert village is not None
    with pytest.raises(ValidationError):
        services.meeting_open(actor=who("demo-director"), region=village, held_on=timezone.localdate())
    with pytest.raises(ValidationError):
        services.meeting_open(
            actor=who("demo-director"), region=xilinhot, held_on=timezone.localdate() + datetime.timedelta(days=90)
        )


def test_a_decision_issues_a_supervision_and_the_meeting_is_archived(xilinhot_meeting: DispatchMeeting) -> None:
    director = who("demo-director")
    client = verified_client(director)
    page = reverse("meetings:detail", args=[xilinhot_meeting.pk])
    item = xilinhot_meeting.items.select_related("case").first()
    assert item is not None
    before = item.case.supervisions.count()

    response = client.post(
        reverse("meetings:item", args=[item.pk]), {"decision": " ", "supervise": "letter"}, follow=True
    )
    assert f"第 {item.order} 项：请填写会议决定" in response.content.decode()
    client.post(
        reverse("meetings:item", args=[item.pk]),
        {"decision": "由旗县司法局牵头，十日内组织联合调处。", "supervise": "supervision", "days": "7"},
    )
    item.refresh_from_db()
    assert item.supervision is not None and item.supervision.kind == "supervision"
    assert item.case.supervisions.count() == before + 1
    assert "联合调处" in item.supervision.reason and xilinhot_meeting.title in item.supervision.reason
    assert item.case.events.filter(kind="supervision").latest("id").data["number"] == item.supervision.number

    # Archiving needs minutes; then nothing changes any more.
    response = client.post(page, {"minutes": "", "close": "1"}, follow=True)
    assert "请先填写会议纪要再归档" in response.content.decode()
    client.post(
        page,
        {
            "minutes": "一、通报本月超期案件情况。\n二、逐案会商，明确责任单位。",
            "attendees": "各成员单位",
            "close": "1",
        },
    )
    xilinhot_meeting.refresh_from_db()
    assert xilinhot_meeting.status == DispatchMeeting.Status.HELD
    other = xilinhot_meeting.items.exclude(pk=item.pk).first()
    assert other is not None
    with pytest.raises(ValidationError):
        services.item_decide(item=other, actor=director, decision="补充决定")
    assert "补充决定" not in client.get(page).content.decode()


def test_a_meetings_documents_are_numbered_and_sealed_as_its_own_center(
    xilinhot_meeting: DispatchMeeting,
) -> None:
    # A case the county center holds: the county meeting's 督办函 is the county center's, not the league's.
    item = xilinhot_meeting.items.filter(case__center__code="ZZ-152502").first()
    assert item is not None, "the demo history has cases held by the Xilinhot center on the agenda"
    services.item_decide(item=item, actor=who("demo-director"), decision="限期十日办结。", supervise="letter", days=10)
    assert item.supervision is not None
    assert item.supervision.issuer_center.code == "ZZ-152502" and item.supervision.number.startswith("ZZ-152502-LE")

    # A township meeting, even convened by the league's leader, issues as the township center.
    townships = Region.objects.filter(code__startswith="152502", level=Region.Level.TOWNSHIP).order_by("code")
    township = next(t for t in townships if weighty(t.prefix))
    meeting = services.meeting_open(actor=who("demo-league"), region=township, held_on=timezone.localdate())
    first = meeting.items.select_related("case").first()
    assert first is not None
    services.item_decide(item=first, actor=who("demo-league"), decision="请抓紧调处。", supervise="supervision")
    assert first.supervision is not None and first.supervision.issuer_center == meeting.center
    assert meeting.center.region == township


def test_the_pack_as_pdf_and_xlsx_is_audited(xilinhot_meeting: DispatchMeeting) -> None:
    director = who("demo-director")
    first = xilinhot_meeting.items.select_related("case").first()
    assert first is not None
    services.item_decide(item=first, actor=director, decision="限期化解，下次会议报告。")
    services.minutes_save(meeting=xilinhot_meeting, actor=director, minutes="通报超期案件。", attendees="各单位")
    client = verified_client(director)
    audited = AuditEntry.objects.filter(action="data_exported", target=f"meeting:{xilinhot_meeting.pk}").count()

    pdf = client.get(reverse("meetings:pack", args=[xilinhot_meeting.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert first.case.number in text and "限期化解" in text and "通报超期案件" in text

    xlsx = client.get(reverse("meetings:pack", args=[xilinhot_meeting.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    agenda = [row for row in book["会议议程"].iter_rows(min_row=4, values_only=True)]
    assert [r[1] for r in agenda] == [i.case.number for i in xilinhot_meeting.items.select_related("case")]
    decisions = {r[1]: r[3] for r in book["决定事项"].iter_rows(min_row=2, values_only=True)}
    assert decisions[first.case.number] == "限期化解，下次会议报告。"

    assert (
        AuditEntry.objects.filter(action="data_exported", target=f"meeting:{xilinhot_meeting.pk}").count()
        == audited + 2
    )
    assert client.get(reverse("meetings:pack", args=[xilinhot_meeting.pk, "docx"])).status_code == 404
    gridworker = verified_client(who("demo-gridworker"))
    assert gridworker.get(reverse("meetings:pack", args=[xilinhot_meeting.pk, "pdf"])).status_code == 404
