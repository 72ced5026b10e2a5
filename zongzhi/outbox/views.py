"""Pages of the outbox: the webhook delivery log with redeliver, the upper-level exchange, and a
party's SMS notices stopped or restarted by the center's staff (a party who asks at the window or on
the phone; a reply TD reaches `POST /api/v1/sms/inbound` from the gateway).

The delivery log is for the security administrator (every subscription) and for the person answerable
for a service account (its subscriptions); anyone else finds nothing (404, like a missing one).
"""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.forms import apply_errors
from zongzhi.identity import mask_phone
from zongzhi.outbox import exchange
from zongzhi.outbox.models import Delivery
from zongzhi.outbox.selectors import deliveries_of, subscription_get, subscriptions_visible
from zongzhi.outbox.services import delivery_redeliver, normalized_phone, sms_opt_set, sms_opted_out


@staff_page()
def subscription_list(request: HttpRequest) -> HttpResponse:
    rows = subscriptions_visible(acting_user(request))
    return render(request, "outbox/subscription_list.html", {"subscriptions": rows})


@staff_page()
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = subscription_get(acting_user(request), pk)
    status = request.GET.get("status", "")
    if status not in Delivery.Status.values:
        status = ""
    page = Paginator(deliveries_of(subscription, status=status).prefetch_related("attempts_made"), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "subscription": subscription,
        "page": page,
        "status": status,
        "statuses": Delivery.Status.choices,
        "dead": subscription.deliveries.filter(status=Delivery.Status.DEAD).count(),
    }
    return render(request, "outbox/subscription_detail.html", context)


@require_POST
@staff_page()
def redeliver(request: HttpRequest, pk: int, delivery: uuid.UUID) -> HttpResponse:
    subscription = subscription_get(acting_user(request), pk)
    found = subscription.deliveries.filter(pk=delivery).first()
    access.require(found is not None)
    assert found is not None
    delivery_redeliver(delivery=found, actor=acting_user(request))
    messages.success(request, _("已重新排队投递事件 #%(seq)s，投递编号不变。") % {"seq": found.seq})
    return redirect("outbox:subscription_detail", pk=subscription.pk)


@csrf_exempt  # another Zongzhi instance posting, signed with its secret: no session, no cookie
@require_POST
def inbound(request: HttpRequest, source: str) -> HttpResponse:
    """The upper-level instance's receiving end of a lower instance's webhook."""
    signature = request.headers.get("Zongzhi-Signature", "")
    timestamp = request.headers.get("Zongzhi-Timestamp", "")
    if not signature or not timestamp:
        return JsonResponse({"detail": "签名无效或已过期。"}, status=401)
    try:
        body = request.body
    except RawPostDataException:  # a form post, already parsed: no webhook
        return JsonResponse({"detail": "内容无法解析。"}, status=400)
    outcome = exchange.receive(
        source=source,
        body=body,
        delivery=request.headers.get("Zongzhi-Delivery", ""),
        timestamp=timestamp,
        signature=signature,
    )
    if outcome == "refused":
        return JsonResponse({"detail": "签名无效或已过期。"}, status=401)
    if outcome == "invalid":
        return JsonResponse({"detail": "内容无法解析。"}, status=400)
    return JsonResponse({"ok": True, "outcome": outcome})


@staff_page(access.may_read_business)
def exchange_page(request: HttpRequest) -> HttpResponse:
    """What the lower instances told this one: their major cases and monthly figures, in the scope."""
    scope = access.scope_of(acting_user(request))
    context = {
        "cases": exchange.major_cases(scope),
        "figures": exchange.monthly_figures(scope),
    }
    return render(request, "outbox/exchange.html", context)


# ---- a party's SMS notices ----------------------------------------------------------------------


class SmsPhoneForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=20)


@staff_page(access.may_set_sms_notices)
def sms_preference(request: HttpRequest) -> HttpResponse:
    """Look a phone up (receives or stopped), stop its notices or restart them; the phone only in the body."""
    form = SmsPhoneForm(request.POST or None)
    state = None
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        action = request.POST.get("action", "")
        try:
            if action in ("opt_out", "opt_in"):
                masked = sms_opt_set(
                    phone=phone, opt_out=action == "opt_out", actor=acting_user(request), via="staff", request=request
                )
                if action == "opt_out":
                    messages.success(request, _("手机号 %(p)s 已退订短信通知。") % {"p": masked})
                else:
                    messages.success(request, _("手机号 %(p)s 已恢复短信通知。") % {"p": masked})
                return redirect("outbox:sms")
            state = {"phone": mask_phone(normalized_phone(phone)), "opted_out": sms_opted_out(phone)}
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "outbox/sms.html", {"form": form, "state": state})
