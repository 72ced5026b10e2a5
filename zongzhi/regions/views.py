"""Adding a region to the tree (the browser, which shows what other apps hold in a region, is in `home`)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zongzhi import access
from zongzhi.accounts.decorators import staff_page
from zongzhi.forms import apply_errors, by_code
from zongzhi.regions import services
from zongzhi.regions.models import Region


class RegionForm(forms.Form):
    parent_code = forms.CharField(label=gettext_lazy("上级区划代码"), max_length=15)
    code = forms.CharField(label=gettext_lazy("区划代码"), max_length=20)
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    name_mn = forms.CharField(label=gettext_lazy("蒙古文名称"), max_length=200, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=Region.Kind.choices)
    pastoral = forms.BooleanField(label=gettext_lazy("牧区"), required=False)

    def clean_parent_code(self) -> Region:
        parent = by_code(Region, self.cleaned_data["parent_code"], _("上级区划代码"))
        if parent is None:
            raise ValidationError(_("请填写上级区划代码。"))
        if parent.child_level is None:
            raise ValidationError(_("网格之下不能再设区划。"))
        return parent


@staff_page(access.may_manage_accounts)
def region_new(request: HttpRequest) -> HttpResponse:
    """The system administrator adds a region (a new village or grid) to the tree."""
    form = RegionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parent = data["parent_code"]
        try:
            region = services.region_create(
                actor=request.user,
                code=data["code"],
                level=parent.child_level,
                parent=parent,
                name=data["name"],
                name_mn=data["name_mn"],
                kind=data["kind"],
                pastoral=data["pastoral"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, _("已新增区划“%(name)s”（%(code)s）。") % {"name": region.name, "code": region.code}
            )
            return redirect("regions:new")
    return render(request, "regions/form.html", {"form": form})
