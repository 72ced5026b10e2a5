"""Every write of the public portal. Citizens act through the portal's service account, so the
case side (intake, attachments, withdrawal, follow-up) runs through the same case services as staff.

Errors are ValidationError keyed by form field, in the visitor's language (gettext).
"""

import datetime
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import inputs, uploads
from zongzhi.accounts.models import Jurisdiction, Membership, Role, User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases import services as case_services
from zongzhi.cases.models import OPEN_STATES, Case, Category, FollowUp, Party, State
from zongzhi.crypto import blind_index
from zongzhi.outbox.services import sms_preference_set, sms_receipt_keep
from zongzhi.portal import sms, throttle
from zongzhi.portal.models import Application, PhoneCode
from zongzhi.regions import codes
from zongzhi.regions.models import Region

PORTAL_USERNAME = "portal"
CODE_TTL = datetime.timedelta(minutes=10)
CODE_ATTEMPTS = 5
PHONE = re.compile(r"1[3-9]\d{9}")
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone
RECEIPT_LENGTH = 12  # 60 bits: guessing one of even a million receipts takes ~10^12 tries
MAX_FILES = 5
MAX_FILES_PER_CASE = 20
MAX_FILE_BYTES = 10 * 1024 * 1024
PORTAL_TYPES = (uploads.JPEG, uploads.PNG, uploads.PDF)
MAX_TEXT = 2000


class Throttled(Exception):
    """Too many requests from this address or for this phone; the message says when to retry."""


def phone_index(phone: str) -> str:
    return blind_index(f"phone:{phone}")


def clean_phone(raw: str) -> str:
    phone = re.sub(r"[\s-]", "", raw or "")
    if not PHONE.fullmatch(phone):
        raise ValidationError({"phone": [_("手机号应为 11 位数字，以 1 开头。")]})
    return phone


# ---- the portal's service account ---------------------------------------------------------------


def portal_actor(region: Region) -> User:
    """The account citizens act through: an intake clerk with no center, over the region's league.

    With no center of its own, `intake_center_for` sends each case to the nearest center above
    the place of the dispute; that center's clerks accept it like any other.
    """
    user = User.objects.filter(username=PORTAL_USERNAME).first()
    if user is None:
        with transaction.atomic():
            user = User(username=PORTAL_USERNAME, full_name="网上申请（群众自助）")
            user.set_unusable_password()  # no one logs in as the portal
            user.save()
            audit_record(action=AuditEntry.Action.USER_CREATED, actor_name="portal", target=PORTAL_USERNAME, detail={})
    Membership.objects.get_or_create(user=user, role=Role.INTAKE_CLERK, org=None, center=None)
    league = Region.objects.get(code=codes.full_code(region.code[:4]))
    Jurisdiction.objects.get_or_create(user=user, region=league, defaults={"prefix": league.prefix})
    return user


# ---- one-time codes -----------------------------------------------------------------------------


def _code_hash(index: str, code: str) -> str:
    return blind_index(f"otp:{index}:{code}")


def code_send(*, phone: str, ip: str) -> None:
    """Send a 6-digit code to the phone (after commit), within the per-phone and per-address limits."""
    phone = clean_phone(phone)
    if not throttle.hit(throttle.CODE_PER_PHONE_MINUTE, phone):
        raise Throttled(_("验证码已发送，请 1 分钟后再试。"))
    if not throttle.hit(throttle.CODE_PER_PHONE_HOUR, phone) or not throttle.hit(throttle.CODE_PER_IP, ip):
        raise Throttled(_("获取验证码过于频繁，请 1 小时后再试。"))
    code = f"{secrets.randbelow(1_000_000):06d}"
    index = phone_index(phone)
    now = timezone.now()
    text = _("【%(s)s】您的验证码是 %(c)s，10 分钟内有效。请勿告诉他人。") % {
        "s": _("锡林郭勒盟综治中心"),
        "c": code,
    }
    with transaction.atomic():
        PhoneCode.objects.filter(phone_index=index, used=False).update(used=True)  # only the newest counts
        PhoneCode.objects.create(
            phone_index=index, code_hash=_code_hash(index, code), sent_at=now, expires_at=now + CODE_TTL
        )
        transaction.on_commit(lambda: sms.send(phone, text))
    if secrets.randbelow(100) == 0:  # now and then, forget what no longer matters
        throttle.forget_old()
        PhoneCode.objects.filter(expires_at__lt=now - datetime.timedelta(days=1)).delete()


def code_verify(*, phone: str, code: str) -> str:
    """Check the code sent to the phone; returns the clean phone. Five wrong tries spend the code."""
    phone = clean_phone(phone)
    index = phone_index(phone)
    code = (code or "").strip()
    with transaction.atomic():
        sent = (
            PhoneCode.objects.select_for_update()
            .filter(phone_index=index, used=False, expires_at__gt=timezone.now())
            .order_by("-sent_at")
            .first()
        )
        right = sent is not None and secrets.compare_digest(sent.code_hash, _code_hash(index, code))
        if sent is not None:
            # A wrong try is counted and kept: the error is raised after the commit.
            sent.attempts += 0 if right else 1
            sent.used = right or sent.attempts >= CODE_ATTEMPTS
            sent.save(update_fields=["attempts", "used"])
    if sent is None:
        raise ValidationError({"code": [_("验证码已失效，请重新获取。")]})
    if not right:
        raise ValidationError({"code": [_("验证码不正确，请核对短信中的 6 位数字。")]})
    return phone


# ---- applications -------------------------------------------------------------------------------


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalize_receipt(raw: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", (raw or "").upper())


def receipt_shown(code: str) -> str:
    """The receipt code as people read it: in groups of four (`ABCD-EFGH-JKLM`)."""
    code = normalize_receipt(code)
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def receipt_index(code: str) -> str:
    return blind_index(f"receipt:{normalize_receipt(code)}")


def check_files(files: Sequence[UploadedFile], already: int = 0) -> None:
    """Number, size and real type (by content, not by name) of uploaded files."""
    problems: list[str] = []
    if len(files) > MAX_FILES:
        problems.append(_("一次最多上传 %(n)d 个文件。") % {"n": MAX_FILES})
    if already + len(files) > MAX_FILES_PER_CASE:
        problems.append(_("每件申请最多 %(n)d 个材料。") % {"n": MAX_FILES_PER_CASE})
    for upload in files:
        name = (upload.name or "").rsplit("/", 1)[-1][:100]
        if upload.size is None or upload.size > MAX_FILE_BYTES:
            problems.append(_("文件“%(n)s”超过 10 MB。") % {"n": name})
            continue
        kind, parsed = uploads.problem(uploads.read_all(upload), name, PORTAL_TYPES, _("材料"))
        if parsed:
            problems.append(parsed)
        elif kind is None:
            problems.append(_("文件“%(n)s”不是照片（JPEG、PNG）或 PDF。") % {"n": name})
    if problems:
        raise ValidationError({"files": problems})


@dataclass
class ApplicationInput:
    category: Category
    description: str
    applicant_name: str
    other_party: str
    region: Region
    place: str


def _check_input(data: ApplicationInput) -> None:
    labels = {
        "description": _("纠纷情况"),
        "applicant_name": _("申请人姓名"),
        "other_party": _("对方当事人（姓名或单位）"),
        "place": _("具体地点"),
    }
    errors = inputs.text_errors(None, {name: getattr(data, name) for name in labels}, labels=labels)
    if len(data.description.strip()) < 10:
        errors["description"] = [_("请用至少 10 个字说明纠纷情况。")]
    elif len(data.description) > MAX_TEXT:
        errors["description"] = [_("纠纷情况最多 %(n)d 字。") % {"n": MAX_TEXT}]
    if not data.applicant_name.strip():
        errors["applicant_name"] = [_("请填写申请人姓名。")]
    if not data.other_party.strip():
        errors["other_party"] = [_("请填写对方当事人的姓名或单位名称。")]
    if not data.place.strip():
        errors["place"] = [_("请填写纠纷发生的具体地点。")]
    if errors:
        raise ValidationError(errors)


def application_submit(
    *, data: ApplicationInput, phone: str, ip: str, files: Sequence[UploadedFile], language: str
) -> tuple[Application, str]:
    """Register the dispute as a case (channel portal) in the competent center's intake queue.

    Returns the application and its receipt code, kept only as a hash: it is shown once, and sent
    to the applicant's phone by the 'received' SMS notice through the outbox (encrypted until sent).
    """
    _check_input(data)
    check_files(files)
    if not throttle.hit(throttle.APPLY_PER_PHONE, phone) or not throttle.hit(throttle.APPLY_PER_IP, ip):
        raise Throttled(_("今天提交的申请已达上限，请明天再试或到综治中心窗口办理。"))
    actor = portal_actor(data.region)
    description = data.description.strip()
    code = new_receipt_code()
    with transaction.atomic():
        case = case_services.case_intake(
            actor=actor,
            channel=Case.Channel.PORTAL,
            category=data.category,
            title=description.splitlines()[0][:40],
            description=description,
            region=data.region,
            location=data.place.strip()[:200],
            parties=[
                case_services.PartyInput(
                    kind=Party.Kind.PERSON,
                    role=Party.Role.APPLICANT,
                    name=data.applicant_name.strip()[:100],
                    phone=phone,
                ),
                case_services.PartyInput(
                    kind=Party.Kind.PERSON, role=Party.Role.RESPONDENT, name=data.other_party.strip()[:100]
                ),
            ],
        )
        application = Application.objects.create(
            case=case,
            receipt_index=receipt_index(code),
            phone=phone,
            phone_index=phone_index(phone),
            language=language,
            submitted_at=case.registered_at,
        )
        sms_receipt_keep(case=case, code=code)
        sms_preference_set(phone=phone, language=language)
        for upload in files:
            case_services.attachment_add(case=case, actor=actor, upload=upload)
    return application, code


def application_find(*, receipt: str, ip: str) -> Application | None:
    """The application of a receipt code, or None: wrong, unknown and throttled look the same."""
    if throttle.exceeded(throttle.RECEIPT_PER_IP, ip):
        return None
    code = normalize_receipt(receipt)
    found = None
    if len(code) == RECEIPT_LENGTH:
        found = (
            Application.objects.select_related("case", "case__category", "case__center", "case__region")
            .filter(receipt_index=receipt_index(code))
            .first()
        )
    if found is None:
        throttle.hit(throttle.RECEIPT_PER_IP, ip)  # only misses count: the applicant may reload freely
    return found


def _require_phone(application: Application, verified_phone: str | None) -> None:
    if not verified_phone or phone_index(verified_phone) != application.phone_index:
        raise ValidationError({"code": [_("请先用申请时的手机号获取验证码并验证。")]})


def application_add_material(
    *, application: Application, verified_phone: str | None, files: Sequence[UploadedFile]
) -> None:
    """Add photos or PDFs to a case still being handled."""
    _require_phone(application, verified_phone)
    case = application.case
    if case.state not in OPEN_STATES:
        raise ValidationError({"files": [_("案件已办结，不能再补充材料。")]})
    if not files:
        raise ValidationError({"files": [_("请选择要上传的文件。")]})
    check_files(files, already=case.attachments.filter(region_code=case.region_code).count())
    actor = portal_actor(case.region)
    with transaction.atomic():
        for upload in files:
            case_services.attachment_add(case=case, actor=actor, upload=upload)


def application_withdraw(*, application: Application, verified_phone: str | None, reason: str) -> None:
    """The applicant withdraws the application while it is still open."""
    _require_phone(application, verified_phone)
    case = application.case
    if case.state not in OPEN_STATES:
        raise ValidationError({"reason": [_("案件已办结，不能撤回。")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("请说明撤回的原因。")]})
    actor = portal_actor(case.region)
    case_services.case_act(case=case, action="withdraw", actor=actor, version=case.version, reason=reason.strip()[:300])


def application_rate(
    *, application: Application, verified_phone: str | None, satisfaction: str, performance: str, note: str
) -> FollowUp:
    """The applicant's satisfaction after closure, recorded as the case's follow-up (回访)."""
    _require_phone(application, verified_phone)
    case = application.case
    errors: dict[str, list[str]] = {}
    if case.state != State.CLOSED:
        errors["satisfaction"] = [_("案件结案后才能评价。")]
    elif application.rated_at is not None:
        errors["satisfaction"] = [_("您已经评价过了，谢谢。")]
    elif satisfaction not in FollowUp.Satisfaction.values:
        errors["satisfaction"] = [_("请选择满意程度。")]
    if performance not in FollowUp.Performance.values:
        errors["performance"] = [_("请选择协议履行情况。")]
    if len(note) > MAX_TEXT:
        errors["note"] = [_("意见最多 %(n)d 字。") % {"n": MAX_TEXT}]
    if errors:
        raise ValidationError(errors)
    actor = portal_actor(case.region)
    with transaction.atomic():
        # Conditional: two tabs rating at once give one follow-up, not two.
        if not Application.objects.filter(pk=application.pk, rated_at__isnull=True).update(rated_at=timezone.now()):
            raise ValidationError({"satisfaction": [_("您已经评价过了，谢谢。")]})
        follow_up = case_services.follow_up_record(
            case=case,
            actor=actor,
            method="网上评价",
            performance=performance,
            satisfaction=satisfaction,
            note=note.strip(),
        )
    application.rated_at = follow_up.at
    return follow_up
