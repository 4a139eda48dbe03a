"""peixun settings: every value comes from the environment, parsed strictly (see docs/configuration.md).

The numbers of rules.md are NOT here: they are data (core.RuleSettings), editable and versioned.
"""

import base64
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("PEIXUN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


DEBUG = env_bool("PEIXUN_DEBUG", False)
TESTING = env_bool("PEIXUN_TESTING", False)

# Development and tests run with fixed keys so that `make run` works out of the box; production
# must set its own (a missing key outside DEBUG is an error, never a silent default).
_DEV_SECRET = "dev-only-secret-key-not-for-production-0123456789abcdef"
_DEV_IDENTITY_KEY = base64.urlsafe_b64encode(b"peixun-dev-identity-key-32bytes!").decode()

SECRET_KEY = os.environ.get("SECRET_KEY") or (_DEV_SECRET if DEBUG or TESTING else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set (PEIXUN_DEBUG=true uses a development key)")

# 居民身份证号 are encrypted with a key derived from this one (AES-GCM), and looked up through an HMAC
# derived from it too. Losing the key loses the ID numbers: back it up apart from the database.
PEIXUN_IDENTITY_KEY = os.environ.get("PEIXUN_IDENTITY_KEY") or (_DEV_IDENTITY_KEY if DEBUG or TESTING else "")
if not PEIXUN_IDENTITY_KEY:
    raise ImproperlyConfigured("PEIXUN_IDENTITY_KEY must be set: 32 random bytes, urlsafe base64")
try:
    if len(base64.urlsafe_b64decode(PEIXUN_IDENTITY_KEY)) != 32:
        raise ValueError
except ValueError as exc:
    raise ImproperlyConfigured("PEIXUN_IDENTITY_KEY must be 32 bytes, urlsafe base64 encoded") from exc

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
if TESTING:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",  # Swagger UI from its own static files, not a CDN (/api/docs)
    "peixun.core",
    "peixun.accounts",
    "peixun.inbox",
    "peixun.catalog",
    "peixun.institutions",
    "peixun.demand",
    "peixun.portal",
    "peixun.training",
    "peixun.attendance",
    "peixun.intake",
    "peixun.checks",
    "peixun.certificates",
    "peixun.subsidies",
    "peixun.supervision",
    "peixun.reports",
    "peixun.faces",
    "peixun.exchange",
    "peixun.checkin",
    "peixun.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "peixun.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "peixun.web.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "peixun.urls"
WSGI_APPLICATION = "peixun.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "peixun.web.context.navigation",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'peixun.sqlite3'}",
        conn_max_age=env_int("PEIXUN_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer works; busy timeout waits instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["peixun.accounts.backends.ModelBackendWithOrganisation"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users. Production keeps Argon2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout: this many failures within the window lock the account for the lock period.
PEIXUN_LOGIN_MAX_FAILURES = env_int("PEIXUN_LOGIN_MAX_FAILURES", 5)
PEIXUN_LOGIN_LOCK_MINUTES = env_int("PEIXUN_LOGIN_LOCK_MINUTES", 15)
# Officials (who see ID numbers, health and payroll data) sign in with a TOTP code as well as their
# password. Off by default only for the development server and the test suite.
PEIXUN_REQUIRE_2FA = env_bool("PEIXUN_REQUIRE_2FA", not DEBUG and not TESTING)
OTP_TOTP_ISSUER = "peixun 内蒙古职业技能培训"
# Retention of personal data (`peixun purge`, daily): check-in photo files and their face features
# after the class ended; uploaded import files (they hold full ID numbers) once imported; registry
# rows (hospital stays, payroll …) of snapshots older than this, which must then be re-imported.
PEIXUN_RETAIN_CHECKIN_PHOTO_DAYS = env_int("PEIXUN_RETAIN_CHECKIN_PHOTO_DAYS", 5 * 365)
PEIXUN_RETAIN_UPLOAD_DAYS = env_int("PEIXUN_RETAIN_UPLOAD_DAYS", 30)
PEIXUN_RETAIN_REGISTRY_DAYS = env_int("PEIXUN_RETAIN_REGISTRY_DAYS", 2 * 365)

PEIXUN_PUBLIC_BASE_URL = os.environ.get("PEIXUN_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

SESSION_COOKIE_AGE = env_int("PEIXUN_SESSION_SECONDS", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Pages take the token from the template (hx-headers), never from the cookie: scripts need not read it.
CSRF_COOKIE_HTTPONLY = True
SECURE_COOKIES = env_bool("PEIXUN_SECURE_COOKIES", not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [PACKAGE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = Path(os.environ.get("PEIXUN_NODE_MODULES", BASE_DIR / "node_modules"))
# Front-end packages come from npm at setup (no CDN: government intranets have no internet).
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("PEIXUN_COLLECTED_STATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not env_bool("PEIXUN_COLLECTED_STATIC", False)
MEDIA_ROOT = VAR_DIR / "media"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task to be retried
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis gives a task that was delivered but never acknowledged to a worker again after this many
# seconds: the job of a worker killed outright (power cut, OOM killer) runs again then. A job still
# running is not started twice (core.jobs holds an advisory lock per job), but keep it longer than
# the longest job so its message is not handed out in vain.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("PEIXUN_CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TIMEZONE = TIME_ZONE

# Job progress lives in the cache: Redis when Celery runs (workers and web share it), else memory.
if CELERY_BROKER_URL.startswith("redis"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PEIXUN_LOG_LEVEL", "INFO")},
}
