"""Base data every installation starts with: dispute domains and categories, deadline policies,
and the names of the supervision documents ("三单两函"). All of it is editable afterwards."""

from django.db import migrations

DOMAINS = [
    ("grassland", "草牧场", True), ("labour", "劳动社保", True), ("land_acquisition", "牧区征地", True),
    ("demolition", "拆迁", True), ("family", "婚姻家事", True), ("neighbour", "邻里", False),
    ("traffic", "交通事故", False), ("foreign", "涉外", False), ("property", "物业", False),
    ("medical", "医疗", False), ("consumer", "消费", False), ("land_contract", "土地承包", False),
    ("other", "其他", False),
]
SUBCATEGORIES = {
    "grassland": ["草场边界", "草场承包流转", "禁牧休牧"],
    "labour": ["拖欠工资", "工伤赔偿", "劳动合同"],
    "family": ["离婚", "赡养抚养", "继承"],
    "neighbour": ["相邻关系", "宅基地"],
}
POLICIES = [
    # (risk, sign_for_days, handle_days, name): the most specific row wins.
    ("", 1, 30, "一般纠纷（人民调解一般一个月）"),
    ("blue", 1, 7, "简易纠纷"),
    ("red", 1, 15, "重大风险纠纷，从快办理"),
]
SUPERVISION_NAMES = [
    ("handover", "交办单"), ("supervision", "督办单"), ("feedback", "反馈单"), ("reminder", "提示函"), ("letter", "督办函"),
]


def forwards(apps, schema_editor):
    Domain = apps.get_model("centers", "DisputeDomain")
    Category = apps.get_model("cases", "Category")
    Policy = apps.get_model("cases", "DeadlinePolicy")
    SupervisionName = apps.get_model("cases", "SupervisionName")
    for sort, (code, name, herder) in enumerate(DOMAINS):
        domain, _ = Domain.objects.get_or_create(code=code, defaults={"name": name, "herder_area": herder})
        parent, _ = Category.objects.get_or_create(code=code, defaults={"name": name, "domain": domain, "sort": sort})
        for i, child in enumerate(SUBCATEGORIES.get(code, [])):
            Category.objects.get_or_create(
                code=f"{code}.{i + 1}", defaults={"name": child, "parent": parent, "domain": domain, "sort": sort}
            )
    if not Policy.objects.exists():
        for risk, sign, handle, name in POLICIES:
            Policy.objects.create(risk_level=risk, sign_for_days=sign, handle_days=handle, name=name)
    for kind, name in SUPERVISION_NAMES:
        SupervisionName.objects.get_or_create(kind=kind, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_search_indexes"), ("centers", "0001_initial_centers")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
