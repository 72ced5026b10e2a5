"""Public forms: they only parse; the services decide. Messages are in the visitor's language."""

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zongzhi.portal import selectors
from zongzhi.portal.services import ApplicationInput

HAN = re.compile(r"[\u3400-\u9fff]")


class DataSelect(forms.Select):
    """A select whose options in Chinese only (names without a Mongolian form) say so: lang="zh-Hans"."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        if selectors.mongolian() and HAN.search(str(option["label"])):
            option["attrs"]["lang"] = "zh-Hans"
        return option


def _required(what: Any) -> dict[str, Any]:
    return {"required": what, "max_length": _("内容过长。")}


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        error_messages=_required(_("请填写手机号。")),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        min_length=6,
        error_messages={**_required(_("请填写短信中的 6 位验证码。")), "min_length": _("验证码为 6 位数字。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ApplyForm(forms.Form):
    category = forms.ChoiceField(label=_("纠纷类别"), error_messages=_required(_("请选择纠纷类别。")))
    description = forms.CharField(
        label=_("纠纷情况"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={**_required(_("请说明纠纷情况。")), "min_length": _("请用至少 10 个字说明纠纷情况。")},
    )
    applicant_name = forms.CharField(
        label=_("申请人姓名"), max_length=50, error_messages=_required(_("请填写申请人姓名。"))
    )
    other_party = forms.CharField(
        label=_("对方当事人（姓名或单位）"),
        max_length=100,
        error_messages=_required(_("请填写对方当事人的姓名或单位名称。")),
    )
    county = forms.ChoiceField(
        label=_("旗县市区"), widget=DataSelect, error_messages=_required(_("请选择纠纷发生的旗县市区。"))
    )
    township = forms.ChoiceField(label=_("苏木乡镇（街道）"), widget=DataSelect, required=False)
    place = forms.CharField(
        label=_("具体地点"), max_length=200, error_messages=_required(_("请填写纠纷发生的具体地点。"))
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        invalid = _("请从列表中选择。")
        choices = {
            "category": [(c.code, selectors.category_name(c)) for c in selectors.public_categories()],
            "county": [(r.code, selectors.region_name(r)[0]) for r in selectors.counties()],
            "township": [(r.code, selectors.region_name(r)[0]) for r in selectors.townships()],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "—"), *options]
            field.error_messages["invalid_choice"] = invalid
        # The townships offered are those of the county chosen (none before one is): the server
        # narrows the list, so the form works without JavaScript; apply.js narrows it in place.
        # Any township stays valid here, so that one of another county is told as such (clean).
        county = str(self.data.get("county", "") if self.is_bound else self.initial.get("county", ""))
        offered = [(code, name) for code, name in choices["township"] if county and code.startswith(county[:6])]
        self.fields["township"].widget.choices = [("", "—"), *offered]
        for field in self.fields.values():
            if field.required:
                field.widget.attrs["aria-required"] = "true"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        county, township = data.get("county"), data.get("township")
        if county and township and not township.startswith(county[:6]):  # a hand-made request
            self.add_error("township", _("所选苏木乡镇不属于所选旗县市区。"))
        return data

    def application_input(self) -> ApplicationInput:
        data = self.cleaned_data
        region = selectors.region_for_application(data.get("township") or data["county"])
        category = selectors.public_categories().get(code=data["category"])
        assert region is not None  # the choices come from the same regions
        return ApplicationInput(
            category=category,
            description=data["description"],
            applicant_name=data["applicant_name"],
            other_party=data["other_party"],
            region=region,
            place=data["place"],
        )
