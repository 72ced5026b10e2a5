"""The system administrator configures the taxonomy, deadline rules, holidays and document names."""

import datetime

import pytest
from django.test import Client

from tests.conftest import verified_client
from tests.test_case_lifecycle import register
from zongzhi.accounts.models import User
from zongzhi.cases.calendar import add_working_days
from zongzhi.cases.models import CalendarDay, Category, DeadlinePolicy, SupervisionName
from zongzhi.cases.services import supervision_name


@pytest.fixture
def sysadmin(db) -> Client:  # type: ignore[no-untyped-def]
    return verified_client(User.objects.get(username="demo-sysadmin"))


def test_only_the_system_administrator_configures(db) -> None:  # type: ignore[no-untyped-def]
    for name in ("demo-director", "demo-leader", "demo-secadmin"):
        client = verified_client(User.objects.get(username=f"demo-{name.split('-')[1]}"))
        assert client.get("/staff/cases/config/").status_code == 403
        assert client.post("/staff/cases/config/category/", {"code": "x", "name": "x"}).status_code == 403


def test_add_a_category_and_use_it(sysadmin: Client) -> None:
    response = sysadmin.post(
        "/staff/cases/config/category/", {"parent": "grassland", "code": "grassland.9", "name": "草场补贴"}
    )
    assert response.status_code == 302
    category = Category.objects.get(code="grassland.9")
    assert category.parent is not None and category.parent.code == "grassland" and category.domain is not None
    case = register(category=category)
    assert case.category.name == "草场补贴"
    bad = sysadmin.post("/staff/cases/config/category/", {"code": "坏 代码", "name": ""}, follow=True).content.decode()
    assert "类别代码只能由" in bad and "请填写类别名称" in bad


def test_deadline_rules_and_holidays_change_deadlines(sysadmin: Client) -> None:
    assert (
        sysadmin.post(
            "/staff/cases/config/policy/",
            {
                "name": "草牧场从快",
                "category": "grassland",
                "risk_level": "",
                "sign_for_days": "1",
                "handle_days": "10",
            },
        ).status_code
        == 302
    )
    assert DeadlinePolicy.objects.get(name="草牧场从快").handle_days == 10
    bad = sysadmin.post(
        "/staff/cases/config/policy/", {"name": "错", "sign_for_days": "0", "handle_days": "400"}, follow=True
    ).content.decode()
    assert "签收时限应在" in bad and "办理时限应在" in bad
    monday = datetime.date(2027, 3, 1)
    start = datetime.datetime(2027, 3, 1, 9, tzinfo=datetime.UTC)
    before = add_working_days(start, 1)
    assert (
        sysadmin.post(
            "/staff/cases/config/calendar/", {"day": "2027-03-02", "workday": "0", "name": "测试假日"}
        ).status_code
        == 302
    )
    assert CalendarDay.objects.filter(day=monday + datetime.timedelta(days=1), workday=False).exists()
    assert add_working_days(start, 1).date() == before.date() + datetime.timedelta(days=1)


def test_supervision_documents_can_be_renamed(sysadmin: Client) -> None:
    sysadmin.post("/staff/cases/config/supervision_name/", {"kind": "reminder", "name": "工作提示函"})
    assert SupervisionName.objects.get(kind="reminder").name == "工作提示函"
    assert supervision_name("reminder") == "工作提示函"
