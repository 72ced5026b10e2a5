"""Center pages: zones, rooms and the agencies on duty today."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zongzhi import access
from zongzhi.accounts.decorators import staff_page
from zongzhi.centers import services
from zongzhi.centers.models import Center, Org, Presence, ServiceArea
from zongzhi.centers.selectors import center_duty, center_get, centers_visible, rooms_by_zone
from zongzhi.forms import apply_errors, by_code
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import region_ancestors


@staff_page(access.may_read_business)
def center_list(request: HttpRequest) -> HttpResponse:
    scope = access.scope_of(request.user)
    level = request.GET.get("level", "")
    if level not in Center.Level.values:
        level = ""
    centers = centers_visible(scope, level=level or None)
    if not level:
        centers = centers.exclude(level=Center.Level.VILLAGE)
    return render(
        request, "centers/list.html", {"centers": centers[:500], "level": level, "levels": Center.Level.choices}
    )


@staff_page(access.may_read_business)
def center_detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = access.scope_of(request.user)
    center = center_get(scope, code)
    today = timezone.localdate()
    return render(
        request,
        "centers/detail.html",
        {
            "center": center,
            "ancestors": region_ancestors(scope, center.region) + [center.region],
            "zones": rooms_by_zone(center),
            "duty": center_duty(center, today),
        },
    )


class PresenceForm(forms.Form):
    org_code = forms.CharField(label=gettext_lazy("单位代码"), max_length=30)
    center_code = forms.CharField(label=gettext_lazy("中心编码"), max_length=20)
    mode = forms.ChoiceField(label=gettext_lazy("入驻方式"), choices=Presence.Mode.choices)
    weekdays = forms.CharField(
        label=gettext_lazy("轮驻日"),
        required=False,
        help_text=gettext_lazy("轮驻单位填写，1 = 周一 … 7 = 周日，用逗号分隔，如 1,3,5"),
    )

    def clean_org_code(self) -> Org:
        return by_code(Org, self.cleaned_data["org_code"], _("单位代码"))

    def clean_center_code(self) -> Center:
        return by_code(Center, self.cleaned_data["center_code"], _("中心编码"))

    def clean_weekdays(self) -> list[int]:
        raw = self.cleaned_data["weekdays"].replace("，", ",").strip()
        days = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            if not part.isdigit():
                raise ValidationError(_("轮驻日“%(part)s”不是数字。") % {"part": part})
            days.append(int(part))
        return days


@staff_page(access.may_manage_accounts)
def presence_new(request: HttpRequest) -> HttpResponse:
    """The system administrator stations an org at a center (resident, rotating with a rota, on call)."""
    form = PresenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.presence_set(
                actor=request.user,
                org=data["org_code"],
                center=data["center_code"],
                mode=data["mode"],
                weekdays=data["weekdays"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("入驻设置已保存。"))
            return redirect("centers:presence_new")
    return render(request, "centers/presence_form.html", {"form": form})


class ServiceAreaForm(forms.Form):
    org_code = forms.CharField(label=gettext_lazy("单位代码"), max_length=30)
    region_code = forms.CharField(label=gettext_lazy("服务区划代码"), max_length=15)

    def clean_org_code(self) -> Org:
        return by_code(Org, self.cleaned_data["org_code"], _("单位代码"))

    def clean_region_code(self) -> Region:
        return by_code(Region, self.cleaned_data["region_code"], _("区划代码"))


@staff_page(access.may_manage_accounts)
def service_areas(request: HttpRequest) -> HttpResponse:
    """The system administrator lists which orgs take cases outside their county (league departments, partners)."""
    form = ServiceAreaForm(request.POST if "add" in request.POST else None)
    if request.method == "POST":
        if "remove" in request.POST:
            raw = request.POST["remove"]
            area = get_object_or_404(
                ServiceArea.objects.select_related("org", "region"), pk=int(raw) if raw.isdigit() else 0
            )
            services.service_area_remove(actor=request.user, area=area, request=request)
            messages.success(
                request, _("已取消：%(o)s 不再接收 %(r)s 的新案件。") % {"o": area.org.name, "r": area.region.name}
            )
            return redirect("centers:service_areas")
        if form.is_valid():
            try:
                area = services.service_area_add(
                    actor=request.user,
                    org=form.cleaned_data["org_code"],
                    region=form.cleaned_data["region_code"],
                    request=request,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request, _("已设置：%(o)s 可接收 %(r)s 的案件。") % {"o": area.org.name, "r": area.region.name}
                )
                return redirect("centers:service_areas")
    areas = ServiceArea.objects.select_related("org", "region").order_by("region__code", "org__code")
    status = 422 if form.errors else 200
    return render(request, "centers/service_areas.html", {"form": form, "areas": areas}, status=status)
