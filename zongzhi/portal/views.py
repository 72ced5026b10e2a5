"""Public pages: the one-stop process, the centers, applying online, following one's case.

No login: the applicant proves they hold the phone with a one-time code (kept in the session for
30 minutes) and finds the case again by its receipt code. Pages are in the visitor's language.
"""

import time
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zongzhi import crypto
from zongzhi.cases.models import Agreement, Case, FollowUp
from zongzhi.identity import mask_phone
from zongzhi.portal import openday, selectors, services
from zongzhi.portal.forms import ApplyForm, CodeForm, PhoneForm
from zongzhi.portal.models import Application

VERIFIED_SECONDS = 30 * 60
PHONE_KEY, PHONE_AT_KEY, RECEIPT_KEY = "portal_phone", "portal_phone_at", "portal_receipt"


def client_ip(request: HttpRequest) -> str:
    # Behind the production proxy REMOTE_ADDR is the proxy, which passes the visitor in a header.
    header = settings.CLIENT_IP_HEADER
    return (header and request.META.get(header)) or request.META.get("REMOTE_ADDR") or "unknown"


def verified_phone(request: HttpRequest) -> str | None:
    """The phone this visitor confirmed with a code in the last 30 minutes."""
    at = request.session.get(PHONE_AT_KEY, 0)
    if time.time() - at > VERIFIED_SECONDS:
        return None
    sealed = request.session.get(PHONE_KEY)
    if not sealed:
        return None
    try:
        return crypto.decrypt(sealed)
    except crypto.DecryptionError:  # sealed with a key this server no longer has: verify again
        return None


def _remember_phone(request: HttpRequest, phone: str) -> None:
    request.session.cycle_key()  # a new session id once the visitor proved something
    # Session rows are plain JSON in the database: the phone is kept sealed, as in the encrypted columns.
    request.session[PHONE_KEY] = crypto.encrypt(phone)
    request.session[PHONE_AT_KEY] = time.time()


def _safe_next(request: HttpRequest, target: str) -> str:
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("portal:home")


def _errors(error: ValidationError) -> list[str]:
    return [message for messages in error.message_dict.values() for message in messages]


def qr_svg(data: str) -> SafeString:
    """A QR code drawn on the server as inline SVG (nothing fetched from elsewhere)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    # The SVG is produced by the qrcode library from our own URL; it carries no user markup.
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308


# ---- information pages ----------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"centers": selectors.centers_public()})


def centers(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/centers.html", {"centers": selectors.centers_public()})


def center(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.center_public(code)
    today = timezone.localdate()
    return render(
        request,
        "portal/center.html",
        {
            "center": found,
            "today": today,
            "duty": selectors.center_today(found, today),
            "hours": selectors.OPENING_HOURS,
            "open_days": selectors.open_days(found)[:10],
        },
    )


# ---- phone confirmation -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Confirm a phone with a one-time code: first send, then check; then back to `next`."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or reverse("portal:apply"))
    phone_form = PhoneForm(request.POST if request.method == "POST" else None)
    code_form = CodeForm()
    sent = False
    problems: list[str] = []
    if request.method == "POST" and phone_form.is_valid():
        phone = phone_form.cleaned_data["phone"]
        try:
            if request.POST.get("step") == "check":
                code_form = CodeForm(request.POST)
                sent = True
                if code_form.is_valid():
                    _remember_phone(request, services.code_verify(phone=phone, code=code_form.cleaned_data["code"]))
                    return redirect(next_url)
            else:
                services.code_send(phone=phone, ip=client_ip(request))
                sent = True
        except ValidationError as error:
            problems = _errors(error)
        except services.Throttled as error:
            problems, sent = [str(error)], True
    return render(
        request,
        "portal/verify.html",
        {"phone_form": phone_form, "code_form": code_form, "sent": sent, "problems": problems, "next": next_url},
    )


# ---- applying -----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    phone = verified_phone(request)
    if phone is None:
        return redirect(f"{reverse('portal:verify')}?next={reverse('portal:apply')}")
    if request.method == "POST" and request.POST.get("step") == "county":
        # Without JavaScript: the county was chosen, the township list follows; nothing is checked yet.
        form = ApplyForm(initial={k: v for k, v in request.POST.items() if k in ApplyForm.base_fields})
    else:
        form = ApplyForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_bound and form.is_valid():
        try:
            _application, code = services.application_submit(
                data=form.application_input(),
                phone=phone,
                ip=client_ip(request),
                files=request.FILES.getlist("files"),
                language=get_language() or "zh-hans",
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        except services.Throttled as error:
            problems = [str(error)]
        else:
            request.session[RECEIPT_KEY] = code
            return redirect("portal:receipt")
    return render(
        request,
        "portal/apply.html",
        {
            "form": form,
            "problems": problems,
            "masked_phone": _mask(phone),
            "limits": _limits(),
            "townships": selectors.townships_by_county(),
        },
    )


def _limits() -> dict[str, Any]:
    return {"files": services.MAX_FILES, "mb": services.MAX_FILE_BYTES // (1024 * 1024)}


def _mask(phone: str) -> str:
    return mask_phone(phone)


def receipt(request: HttpRequest) -> HttpResponse:
    """The receipt code, shown after applying, with a QR code that opens the progress page."""
    code = request.session.get(RECEIPT_KEY)
    if not code:
        return redirect("portal:track")
    url = request.build_absolute_uri(reverse("portal:track_code", args=[code]))
    phone = verified_phone(request)
    context = {
        "code": services.receipt_shown(code),
        "url": url,
        "qr": qr_svg(url),
        "masked_phone": _mask(phone) if phone else "",
    }
    return render(request, "portal/receipt.html", context)


# ---- following the case ---------------------------------------------------------------------------------


def _not_found(request: HttpRequest, receipt: str = "") -> HttpResponse:
    # One answer for a wrong code, an unknown code and too many tries: nothing to learn from it.
    return render(request, "portal/track.html", {"not_found": True, "receipt": ""}, status=404)


def _progress_page(
    request: HttpRequest, application: Application, receipt: str, problems: list[str] | None = None, done: str = ""
) -> HttpResponse:
    phone = verified_phone(request)
    verified = phone is not None and services.phone_index(phone) == application.phone_index
    case = application.case
    name, in_language = selectors.center_name(case.center)
    return render(
        request,
        "portal/progress.html",
        {
            "application": application,
            "case": case,
            "category": selectors.category_name(case.category),
            "center_name": name,
            "center_in_language": in_language,
            "progress": selectors.progress(application),
            "receipt": receipt,
            "verified": verified,
            "masked_phone": _mask(application.phone),
            "problems": problems or [],
            "done": done,
            "satisfactions": FollowUp.Satisfaction.choices,
            "performances": FollowUp.Performance.choices,
            # Switching language reloads the page by its QR address (the lookup was a POST).
            "lang_next": reverse("portal:track_code", args=[receipt]),
            "limits": _limits(),
        },
    )


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """The lookup form; a POSTed code keeps the code out of addresses and logs."""
    if request.method == "GET":
        return render(request, "portal/track.html", {"receipt": ""})
    receipt = services.normalize_receipt(request.POST.get("receipt", ""))
    application = services.application_find(receipt=receipt, ip=client_ip(request))
    if application is None:
        return _not_found(request)
    return _progress_page(request, application, receipt)


def track_code(request: HttpRequest, code: str) -> HttpResponse:
    """The address inside the QR code."""
    application = services.application_find(receipt=code, ip=client_ip(request))
    if application is None:
        return _not_found(request)
    return _progress_page(request, application, services.normalize_receipt(code))


@require_POST
def track_act(request: HttpRequest) -> HttpResponse:
    """The applicant's actions on the progress page: confirm the phone, add materials, withdraw, rate."""
    receipt = services.normalize_receipt(request.POST.get("receipt", ""))
    application = services.application_find(receipt=receipt, ip=client_ip(request))
    if application is None:
        return _not_found(request)
    action = request.POST.get("action", "")
    phone = verified_phone(request)
    done = ""
    try:
        if action == "send_code":
            services.code_send(phone=application.phone, ip=client_ip(request))
            done = _("验证码已发送到 %(p)s。") % {"p": _mask(application.phone)}
        elif action == "verify":
            _remember_phone(request, services.code_verify(phone=application.phone, code=request.POST.get("code", "")))
            done = _("手机号已验证。")
        elif action == "add":
            services.application_add_material(
                application=application, verified_phone=phone, files=request.FILES.getlist("files")
            )
            done = _("材料已提交。")
        elif action == "withdraw":
            services.application_withdraw(
                application=application, verified_phone=phone, reason=request.POST.get("reason", "")
            )
            done = _("申请已撤回。")
        elif action == "rate":
            services.application_rate(
                application=application,
                verified_phone=phone,
                satisfaction=request.POST.get("satisfaction", ""),
                performance=request.POST.get("performance", "na"),
                note=request.POST.get("note", ""),
            )
            done = _("感谢您的评价！")
        else:
            return _progress_page(request, application, receipt, [_("未知操作。")])
    except ValidationError as error:
        return _progress_page(request, application, receipt, _errors(error))
    except services.Throttled as error:
        return _progress_page(request, application, receipt, [str(error)])
    case = application.case  # read with the application; refreshing the application would drop it
    application.refresh_from_db()
    case.refresh_from_db(from_queryset=Case.objects.filter(region_code=case.region_code))
    application.case = case
    return _progress_page(request, application, receipt, done=done)


@require_POST
def agreement(request: HttpRequest) -> HttpResponse:
    """The mediation agreement, print-ready, in the visitor's language (vertical in Mongolian)."""
    receipt = services.normalize_receipt(request.POST.get("receipt", ""))
    application = services.application_find(receipt=receipt, ip=client_ip(request))
    if application is None:
        return _not_found(request)
    phone = verified_phone(request)
    case = application.case
    agreement = Agreement.objects.filter(case=case, region_code=case.region_code).first()
    if phone is None or services.phone_index(phone) != application.phone_index or agreement is None:
        return _progress_page(request, application, receipt, [_("请先用申请时的手机号获取验证码并验证。")])
    parties = [
        (p.get_role_display(), p.name) for p in case.parties.filter(region_code=case.region_code).order_by("role", "id")
    ]
    lead = (
        case.assignments.filter(role="lead", region_code=case.region_code).select_related("org").order_by("id").first()
    )
    return render(
        request,
        "portal/agreement.html",
        {
            "case": case,
            "agreement": agreement,
            "parties": parties,
            "terms": [t for t in agreement.terms.splitlines() if t.strip()],
            "committee": lead.org.name if lead else case.center.name,
            "center_name": selectors.center_name(case.center)[0],
        },
    )


# ---- open days ------------------------------------------------------------------------------------


def open_day_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/open_days.html",
        {
            "days": selectors.open_days()[:100],
            "verified": verified_phone(request) is not None,
            "max": openday.MAX_PEOPLE,
        },
    )


@require_POST
def open_day_book_view(request: HttpRequest, pk: int) -> HttpResponse:
    open_day = get_object_or_404(selectors.open_days(), pk=pk)
    phone = verified_phone(request)
    problems: list[str] = []
    booking = None
    if phone is None:
        problems = [_("请先验证手机号。")]
    else:
        try:
            people = int(request.POST.get("people", "1") or "1")
        except ValueError:
            people = 0
        try:
            booking = openday.open_day_book(
                open_day=open_day, name=request.POST.get("name", ""), phone=phone, people=people, ip=client_ip(request)
            )
        except ValidationError as error:
            problems = [m for ms in error.message_dict.values() for m in ms]
        except services.Throttled as error:
            problems = [str(error)]
    return render(
        request,
        "portal/open_day_booked.html",
        {
            "open_day": open_day,
            "booking": booking,
            "problems": problems,
            "verify_url": f"{reverse('portal:verify')}?next={reverse('portal:open_days')}",
            "lang_next": reverse("portal:open_days"),
        },
        status=200 if booking else 422,
    )
