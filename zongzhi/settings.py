"""Settings read from the environment; nothing secret lives in this file.

ZONGZHI_ENV   dev (default) or prod
SECRET_KEY    required in prod; in dev a random key is kept in var/secret_key
DATABASE_URL  default sqlite:///var/zongzhi.sqlite3 (WAL mode)
ALLOWED_HOSTS comma separated, prod only
ZONGZHI_AUDIT_CHECKPOINT_DIR   where the signed audit checkpoints are appended (default var/audit-checkpoints)
ZONGZHI_AUDIT_LANES            parallel audit chains on PostgreSQL, 1-256 (default 16)
ZONGZHI_AUDIT_RETENTION_DAYS   how long audit entries are kept, at least 180 (default 180)
The audit keys: zongzhi/audit/keys.py and docs/audit.md.
"""

import datetime
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ZONGZHI_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

ENV = os.environ.get("ZONGZHI_ENV", "dev")
if ENV not in ("dev", "prod"):
    raise ImproperlyConfigured("ZONGZHI_ENV must be dev or prod")
PROD = ENV == "prod"
# ZONGZHI_DEBUG=0 runs dev without Django's debug pages (the browser tests do, to see ours).
DEBUG = not PROD and os.environ.get("ZONGZHI_DEBUG", "1") == "1"


def _dev_secret_key() -> str:
    # A per-machine key, generated once, so dev sessions survive restarts without a key in code.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or ("" if PROD else _dev_secret_key())
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when ZONGZHI_ENV=prod")

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]
if not PROD:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # so its API docs page uses the bundled Swagger UI, not a CDN
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "zongzhi.audit",
    "zongzhi.regions",
    "zongzhi.centers",
    "zongzhi.accounts",
    "zongzhi.grid",
    "zongzhi.cases",
    "zongzhi.field",
    "zongzhi.meetings",
    "zongzhi.demo",
    "zongzhi.transfer",
    "zongzhi.portal",
    "zongzhi.dashboards",
    "zongzhi.outbox",
    "zongzhi.ops",
    "zongzhi.integration",
]

MIDDLEWARE = [
    "zongzhi.requestlog.RequestIdMiddleware",  # first: every later log line carries the request id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: caps it by its declared length; adds CSP and no-store.
    "zongzhi.hardening.HardeningMiddleware",
    # Entries written deep inside a service (a case event's) carry the address of the request.
    "zongzhi.audit.middleware.AuditRequestMiddleware",
    # Before the session is looked up: a NUL byte reaches no query, not even the session's.
    "zongzhi.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zongzhi.replica.ReplicaReadsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After the session's user is known: idempotency keys belong to a caller (docs/integration.md).
    "zongzhi.integration.middleware.ApiCallMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "zongzhi.accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "zongzhi.urls"
WSGI_APPLICATION = "zongzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "zongzhi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zongzhi.accounts.context_processors.persona",
            ],
        },
    },
]

# Seconds a server thread keeps its database connection (ZONGZHI_CONN_MAX_AGE; 60 in production).
CONN_MAX_AGE = int(os.environ.get("ZONGZHI_CONN_MAX_AGE", "60" if PROD else "0"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'zongzhi.sqlite3'}",
        conn_max_age=CONN_MAX_AGE,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at BEGIN,
        # so concurrent writers queue (busy timeout) instead of failing on lock upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, so a browser-test server process can share it; ZONGZHI_TEST_DB separates parallel runs.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("ZONGZHI_TEST_DB") or str(VAR_DIR / "test.sqlite3")}
# A PostgreSQL streaming replica for dashboards, lists and exports (zongzhi/replica.py, docs/deploy.md).
if os.environ.get("DATABASE_REPLICA_URL"):
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL")
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=CONN_MAX_AGE)
    DATABASES["replica"]["OPTIONS"] = {"connect_timeout": 2}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["zongzhi.replica.ReplicaRouter"]
# After a replica failed to answer, reads go to the primary for this long before the replica is tried again.
REPLICA_RETRY_SECONDS = int(os.environ.get("ZONGZHI_REPLICA_RETRY_SECONDS", "30"))
# What the replica answered (up, replayed up to where) is kept this long by each process (zongzhi/replica.py).
REPLICA_CHECK_SECONDS = float(os.environ.get("ZONGZHI_REPLICA_CHECK_SECONDS", "1"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# The model backend, reading a session's user with their memberships and jurisdictions (one statement).
AUTHENTICATION_BACKENDS = ["zongzhi.accounts.backends.HeldBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "zongzhi.accounts.validators.MinimumLength",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login policy (等保 2.0 level 3): lockout and idle timeout.
LOGIN_FAILURE_LIMIT = 5
LOGIN_LOCKOUT_SECONDS = 15 * 60
IDLE_TIMEOUT_SECONDS = 30 * 60
LOGIN_PENDING_SECONDS = 5 * 60
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
OTP_TOTP_ISSUER = "综治平台"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("mn", "ᠮᠣᠩᠭᠣᠯ")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The public portal's language switch is remembered for a year (a session cookie by default).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("ZONGZHI_STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = not PROD
# Hashed names (style.3f2a….css) and compressed copies, written by collectstatic: whitenoise serves
# a hashed file for ten years as immutable, so a phone on a slow link fetches it once. Production
# always (`make serve` collects); elsewhere when ZONGZHI_STATIC_MANIFEST=1 (the benchmark and the
# serving test collect first). `make run` and the tests serve the files as they are in static/,
# so an edit shows at once and no stale collection can hide it.
STATIC_MANIFEST = PROD or os.environ.get("ZONGZHI_STATIC_MANIFEST") == "1"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Request bodies are refused (413) past these caps before they are read (zongzhi/hardening.py):
# API JSON and page forms small, multipart uploads (attachments, photos, materials) larger, imports largest.
_MB = 1024 * 1024
BODY_LIMITS = {
    "api": int(float(os.environ.get("ZONGZHI_BODY_LIMIT_API_MB", "1")) * _MB),
    "form": int(float(os.environ.get("ZONGZHI_BODY_LIMIT_FORM_MB", "2.5")) * _MB),
    "upload": int(float(os.environ.get("ZONGZHI_BODY_LIMIT_UPLOAD_MB", "100")) * _MB),
    "import": int(float(os.environ.get("ZONGZHI_BODY_LIMIT_IMPORT_MB", "201")) * _MB),  # a 200 MB file and its form
}

# Attachments: never under STATIC, never served directly; views check access and stream them.
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_PERMISSIONS = 0o600

# The public portal's SMS gateway (one-time codes): "file" writes each message to ZONGZHI_SMS_DIR
# (development, tests), "console" logs it, "http" posts it to ZONGZHI_SMS_URL (production).
SMS_BACKEND = os.environ.get("ZONGZHI_SMS_BACKEND", "http" if PROD else "file")
SMS_DIR = Path(os.environ.get("ZONGZHI_SMS_DIR", VAR_DIR / "sms"))
SMS_HTTP_URL = os.environ.get("ZONGZHI_SMS_URL", "")
SMS_HTTP_TOKEN = os.environ.get("ZONGZHI_SMS_TOKEN", "")
SMS_SIGNATURE = os.environ.get("ZONGZHI_SMS_SIGNATURE", "锡林郭勒盟综治中心")
# The request header (e.g. HTTP_X_REAL_IP) in which the reverse proxy passes the visitor's address,
# for the portal's per-address rate limits. Unset: REMOTE_ADDR (a header anyone can set is not trusted).
CLIENT_IP_HEADER = os.environ.get("ZONGZHI_CLIENT_IP_HEADER", "")

# Service accounts (docs/integration.md): a token's life, and how long a rotated one keeps working.
SERVICE_TOKEN_DAYS = int(os.environ.get("ZONGZHI_SERVICE_TOKEN_DAYS", "90"))
SERVICE_TOKEN_GRACE_SECONDS = int(os.environ.get("ZONGZHI_SERVICE_TOKEN_GRACE_SECONDS", str(60 * 60)))
# How long an API POST's Idempotency-Key is remembered (and its first answer replayed).
IDEMPOTENCY_KEY_HOURS = int(os.environ.get("ZONGZHI_IDEMPOTENCY_KEY_HOURS", "24"))

# Queued by `manage.py scheduler` on each tick, besides the deadline sweep (by path: any app may add one).
SCHEDULED_TASKS = [
    "zongzhi.integration.tasks.idempotency_keys_expire_task",
    "zongzhi.transfer.tasks.purge_import_files_task",  # import rejects files past their retention (security.md)
    "zongzhi.transfer.tasks.purge_export_files_task",  # export jobs: stuck ones failed, old files deleted
    "zongzhi.outbox.clock.instalment_reminders_task",  # overdue instalments: the parties reminded once by SMS
    "zongzhi.ops.tasks.partitions_ensure_task",  # PostgreSQL: the history tables' months made ahead (deploy.md)
]

# The audit log (docs/audit.md): checkpoints outside the database, entries kept at least 180 days
# (等保 2.0 level 3, 网络安全法 §21: logs kept no less than six months).
# Parallel audit chains on PostgreSQL: appends in different lanes do not wait for each other (docs/audit.md).
try:
    AUDIT_LANES = int(os.environ.get("ZONGZHI_AUDIT_LANES", "16"))
except ValueError:
    raise ImproperlyConfigured("ZONGZHI_AUDIT_LANES must be a whole number between 1 and 256") from None
if not 1 <= AUDIT_LANES <= 256:
    raise ImproperlyConfigured("ZONGZHI_AUDIT_LANES must be between 1 and 256")
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("ZONGZHI_AUDIT_CHECKPOINT_DIR", VAR_DIR / "audit-checkpoints"))
try:
    AUDIT_RETENTION_DAYS = int(os.environ.get("ZONGZHI_AUDIT_RETENTION_DAYS", "180"))
except ValueError:
    raise ImproperlyConfigured("ZONGZHI_AUDIT_RETENTION_DAYS must be a whole number of days (at least 180)") from None
if AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured("ZONGZHI_AUDIT_RETENTION_DAYS must be at least 180 (audit logs are kept six months)")


# Monthly partitions of the history tables on PostgreSQL (zongzhi/ops/partitions.py, docs/deploy.md): the months
# made ahead, where archived months go (encrypted), and how long each table keeps its rows (0: for ever).
def _days(name: str, default: str, minimum: int = 0) -> int:
    try:
        days = int(os.environ.get(name, default))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number of days") from None
    if days and days < minimum:
        raise ImproperlyConfigured(f"{name} must be 0 (kept for ever) or at least {minimum} (logs are kept six months)")
    return days


PARTITION_MONTHS_AHEAD = _days("ZONGZHI_PARTITION_MONTHS_AHEAD", "3")
PARTITION_ARCHIVE_DIR = Path(os.environ.get("ZONGZHI_PARTITION_ARCHIVE_DIR", VAR_DIR / "archive"))
CASE_EVENT_RETENTION_DAYS = _days("ZONGZHI_CASE_EVENT_RETENTION_DAYS", "0")  # the timeline is the case's record
WEBHOOK_ATTEMPT_RETENTION_DAYS = _days("ZONGZHI_WEBHOOK_ATTEMPT_RETENTION_DAYS", "180", 180)
# The outbox (docs/deploy.md): deliveries and SMS are the record of what was sent to whom (a log: at
# least 180 days); events also serve feed readers resuming from an old cursor, so they stay a year.
WEBHOOK_DELIVERY_RETENTION_DAYS = _days("ZONGZHI_WEBHOOK_DELIVERY_RETENTION_DAYS", "180", 180)
SMS_MESSAGE_RETENTION_DAYS = _days("ZONGZHI_SMS_MESSAGE_RETENTION_DAYS", "180", 180)
OUTBOX_EVENT_RETENTION_DAYS = _days("ZONGZHI_OUTBOX_EVENT_RETENTION_DAYS", "365", 180)

# Webhooks (docs/integration.md): how long a receiver may take, the retry backoff (base × 2^n, capped)
# and the attempts before a delivery is dead-lettered (a subscription may set its own).
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("ZONGZHI_WEBHOOK_TIMEOUT", "10"))
WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("ZONGZHI_WEBHOOK_BACKOFF", "30"))
WEBHOOK_BACKOFF_MAX = float(os.environ.get("ZONGZHI_WEBHOOK_BACKOFF_MAX", str(6 * 3600)))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("ZONGZHI_WEBHOOK_MAX_ATTEMPTS", "10"))
# In prod a receiver must be https and not a loopback or private address, unless its host is listed here.
WEBHOOK_PUBLIC_ONLY = PROD
WEBHOOK_ALLOWED_HOSTS = [h for h in os.environ.get("ZONGZHI_WEBHOOK_ALLOWED_HOSTS", "").split(",") if h]

# SMS notices to parties: Mongolian only where the gateway accepts it; no messages in the quiet hours
# ("21-8": from 21:00 to 08:00 local time; "0-0": none); at most so many messages an hour to one phone.
SMS_MONGOLIAN = os.environ.get("ZONGZHI_SMS_MONGOLIAN", "0") == "1"
_quiet = os.environ.get("ZONGZHI_SMS_QUIET_HOURS", "21-8").split("-")
SMS_QUIET_HOURS = (int(_quiet[0]), int(_quiet[1]))
SMS_PER_PHONE_PER_HOUR = int(os.environ.get("ZONGZHI_SMS_PER_PHONE_PER_HOUR", "3"))
SMS_MAX_ATTEMPTS = int(os.environ.get("ZONGZHI_SMS_MAX_ATTEMPTS", "5"))
SMS_BACKOFF_SECONDS = float(os.environ.get("ZONGZHI_SMS_BACKOFF", "60"))
SMS_INSTALMENT_NOTICE_DAYS = int(os.environ.get("ZONGZHI_SMS_INSTALMENT_DAYS", "3"))

# Import rejects files (masked, mode 0600 under var/imports) are deleted this many hours after the
# import ended, by the scheduler's periodic purge.
IMPORT_FILES_RETENTION_HOURS = int(os.environ.get("ZONGZHI_IMPORT_FILES_RETENTION_HOURS", "72"))
# Export jobs (docs/transfer.md): their files are deleted this many hours after they were written (by the
# scheduler's periodic purge, audited); a running job with no sign of life for this many minutes (its worker
# died) is marked failed; a job of at least EXPORT_PARALLEL_ROWS rows is decrypted and rendered by
# EXPORT_PROCESSES forked processes (default: one a core; 1 turns it off). Rows are read EXPORT_CHUNK_ROWS
# at a time (one query each, keyset-paged), and the job's progress and heartbeat written at least every
# EXPORT_PROGRESS_ROWS rows.
EXPORT_FILES_RETENTION_HOURS = int(os.environ.get("ZONGZHI_EXPORT_FILES_RETENTION_HOURS", "24"))
EXPORT_STALE_MINUTES = int(os.environ.get("ZONGZHI_EXPORT_STALE_MINUTES", "15"))
EXPORT_PROCESSES = int(os.environ.get("ZONGZHI_EXPORT_PROCESSES", str(os.cpu_count() or 1)))
EXPORT_PARALLEL_ROWS = int(os.environ.get("ZONGZHI_EXPORT_PARALLEL_ROWS", "20000"))
EXPORT_CHUNK_ROWS = int(os.environ.get("ZONGZHI_EXPORT_CHUNK_ROWS", "2000"))
EXPORT_PROGRESS_ROWS = int(os.environ.get("ZONGZHI_EXPORT_PROGRESS_ROWS", "5000"))

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# /readyz reports the worker behind when a queued task has waited longer than this (the scheduler
# queues a sweep every 10 minutes, so a stopped worker shows within a quarter of an hour).
WORKER_MAX_LAG = datetime.timedelta(seconds=int(os.environ.get("ZONGZHI_WORKER_MAX_LAG", "900")))
# … and the outbox behind when a committed event has waited longer than this to be published.
OUTBOX_MAX_LAG = datetime.timedelta(seconds=int(os.environ.get("ZONGZHI_OUTBOX_MAX_LAG", "300")))

X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PROD:
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# ZONGZHI_LOG_FORMAT=json (the default in production): one JSON object a line with the request id;
# "text" for a person reading a terminal. ZONGZHI_ACCESS_LOG=1 logs every request (method, path
# without the query string, status, milliseconds); production servers leave gunicorn's off.
LOG_FORMAT = os.environ.get("ZONGZHI_LOG_FORMAT", "json" if PROD else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("ZONGZHI_LOG_FORMAT must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "zongzhi.requestlog.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "zongzhi.requestlog.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "zongzhi.access": {
            "handlers": ["console"],
            "level": "INFO" if os.environ.get("ZONGZHI_ACCESS_LOG", "1" if PROD else "0") == "1" else "WARNING",
            "propagate": False,
        },
    },
}
