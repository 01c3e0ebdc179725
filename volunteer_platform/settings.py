"""Settings for the party-member volunteer service platform.

One module, driven by environment variables (see ``.env.example``). With no
``DATABASE_URL`` / ``REDIS_URL`` the platform runs on its embedded default:
an SQLite file, Celery tasks in-process and e-mail on the console.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must be set when DEBUG is off (see .env.example)."
        )
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Key for protected fields (ID numbers and later health data). A list so keys can
# be rotated: the first encrypts, all decrypt. Derived from SECRET_KEY when unset.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")

INSTALLED_APPS = [
    "apps.core",
    "apps.core.admin_apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "apps.accounts",
    "apps.organizations",
    "apps.teams",
    "apps.communities",
    "apps.care",
    "apps.activities",
    "apps.service_records",
    "apps.points",
    "apps.awards",
    "apps.notifications",
    "apps.portal",
    "apps.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "volunteer_platform.urls"
WSGI_APPLICATION = "volunteer_platform.wsgi.application"
ASGI_APPLICATION = "volunteer_platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.platform",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The statements of every record submit are prepared once per connection (apps/core/prepared.py).
# Turn off behind a pooler in transaction mode (PgBouncer's pool_mode = transaction).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery --------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.RedisCache",  # one Redis client per pool: see the module
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vp",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Per process, for what depends only on the code, the language and coarse flags (the rendered
# navigation bar): no network round trip, and a deployment starts new processes anyway.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "platform-local",
    "TIMEOUT": 3600,
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
# Without a broker (the embedded default) tasks run in-process so the demo still works.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Authentication -----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: it refuses locked-out credentials before the others try.
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.AccountBackend",  # allauth's, loading the user faster
    "apps.accounts.backends.PhoneNumberBackend",
    "apps.core.backends.CityAdministratorBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "apps.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "apps.accounts.forms.VolunteerSignupForm"
ACCOUNT_FORMS = {"login": "apps.accounts.forms.LoginForm"}
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="none")
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# Lock-outs are django-axes' job; allauth's own counter would answer first with another message.
ACCOUNT_RATE_LIMITS = {"login_failed": False}
# Volunteers may register themselves only while the organisation department allows it.
VOLUNTEER_SIGNUP_OPEN = env.bool("VOLUNTEER_SIGNUP_OPEN", default=True)
# Minors (志愿服务条例; one city's rule, configurable): under this age a guardian's recorded
# consent is needed, under the next a guardian must be present, below the last not accepted.
VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE = env.int("VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE", default=14)
VOLUNTEER_GUARDIAN_PRESENT_BELOW_AGE = env.int("VOLUNTEER_GUARDIAN_PRESENT_BELOW_AGE", default=10)
VOLUNTEER_MINIMUM_AGE = env.int("VOLUNTEER_MINIMUM_AGE", default=6)
# Residents' requests: days to complete when a category sets none, and how many anonymous
# submissions one phone number or address may make per minute.
CARE_REQUEST_DEFAULT_DEADLINE_DAYS = env.int("CARE_REQUEST_DEFAULT_DEADLINE_DAYS", default=7)
CARE_REQUEST_RATE_LIMIT_PER_MINUTE = env.int("CARE_REQUEST_RATE_LIMIT_PER_MINUTE", default=5)
# Working hours on working days (DESIGN: a record knows whether it fell inside them).
WORKING_HOURS = env.list("WORKING_HOURS", default=["08:30-12:00", "14:30-17:30"])
# Service records (MCA Order 67 Art. 11): recorded within this many working days after the
# service, or entered late (补录) with a reason; at most this many hours per person and day.
RECORDING_DEADLINE_WORKING_DAYS = env.int("RECORDING_DEADLINE_WORKING_DAYS", default=10)
SERVICE_RECORD_MAX_HOURS_PER_DAY = env.int("SERVICE_RECORD_MAX_HOURS_PER_DAY", default=12)
# Evidence photos: the largest upload accepted, in megabytes.
EVIDENCE_MAX_UPLOAD_MB = env.int("EVIDENCE_MAX_UPLOAD_MB", default=10)
EVIDENCE_MAX_PHOTOS = env.int("EVIDENCE_MAX_PHOTOS", default=6)
# Activity titles and contents that are not volunteer service (Art. 14-17: meetings, dinners,
# team-building, rehearsals, commercial events) and are refused as records.
NON_VOLUNTEER_KEYWORDS = env.list(
    "NON_VOLUNTEER_KEYWORDS", default=["会议", "聚餐", "团建", "彩排", "排练", "商业", "宴请"]
)
# QR check-in: a code shown on the leader's phone is valid this many seconds (it refreshes
# itself), and only from this many minutes before the start until this many after the end.
CHECKIN_QR_MAX_AGE_SECONDS = env.int("CHECKIN_QR_MAX_AGE_SECONDS", default=90)
CHECKIN_WINDOW_MINUTES = env.int("CHECKIN_WINDOW_MINUTES", default=60)
# Checks against formalism: thresholds above which a record is flagged for the reviewer.
FORMALISM_CHECKS = {
    # the same person served more than this many times in one day
    "recipient_per_day": env.int("FORMALISM_RECIPIENT_PER_DAY", default=2),
    # the same person served by more than this many volunteers at overlapping times
    "recipient_concurrent_volunteers": env.int("FORMALISM_RECIPIENT_CONCURRENT", default=3),
    # near-identical content in more than this many records within 30 days
    "same_content_records": env.int("FORMALISM_SAME_CONTENT_RECORDS", default=5),
    # photos whose perceptual hashes differ in at most this many bits are the same photo
    "photo_hash_distance": env.int("FORMALISM_PHOTO_HASH_DISTANCE", default=6),
    # check-in more than this many minutes before the start or after the end of the activity
    "checkin_offset_minutes": env.int("FORMALISM_CHECKIN_OFFSET_MINUTES", default=45),
    # a month's hours more than this many times the median of the team's volunteers
    "peer_hours_factor": env.float("FORMALISM_PEER_HOURS_FACTOR", default=3.0),
}
# Star levels by cumulative approved hours (1 to 5 stars).
VOLUNTEER_STAR_HOURS = [
    int(h) for h in env.list("VOLUNTEER_STAR_HOURS", default=[100, 300, 600, 1000, 1500])
]
# Imports: files with more rows than this run as a Celery task with a progress bar.
IMPORT_SYNC_MAX_ROWS = env.int("IMPORT_SYNC_MAX_ROWS", default=500)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=50000)
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=10)
# Exports (Excel, PDF) are downloadable for this many hours, then their files are deleted.
EXPORT_TTL_HOURS = env.int("EXPORT_TTL_HOURS", default=24)
# Certificates: the number's prefix (e.g. ZYFW-2026-000123).
CERTIFICATE_NUMBER_PREFIX = env.str("CERTIFICATE_NUMBER_PREFIX", default="ZYFW")

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
# Per account and address: offices share one intranet address, so locking an address alone
# would lock out a whole office after a few typos.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "apps.accounts.backends.axes_username"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
if AXES_IPWARE_PROXY_COUNT:
    # Behind a reverse proxy the client's address is in X-Forwarded-For, not REMOTE_ADDR.
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

# Idle sessions end after this many minutes; every request renews the clock.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Django's database sessions, which a view may also write inside its own transaction.
SESSION_ENGINE = "apps.core.sessions"

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
#: Exports and uploaded imports: never published by the web server, only through checked views.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "private_media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": "/private-media-is-not-served/"},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail --------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if env.str("EMAIL_HOST", default="")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@volunteer.invalid")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Notifications --------------------------------------------------------------
SMS_BACKEND = env.str("SMS_BACKEND", default="apps.notifications.sms.LoggingSmsBackend")
# No SMS between these local times (Asia/Shanghai); those wait until the morning.
NOTIFICATION_QUIET_HOURS = tuple(env.list("NOTIFICATION_QUIET_HOURS", default=["21:00", "08:00"]))
NOTIFICATION_EMAIL_BATCH = env.int("NOTIFICATION_EMAIL_BATCH", default=500)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Party-member volunteer service platform API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or "status" field; each choice set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "apps.organizations.models.OrganizationKind",
        "TeamKindEnum": "apps.teams.models.TeamKind",
        "CommunityKindEnum": "apps.communities.models.CommunityKind",
        "ServicePointKindEnum": "apps.communities.models.ServicePointKind",
        "RequestKindEnum": "apps.care.models.RequestKind",
        "VisitKindEnum": "apps.care.models.VisitKind",
        "CampaignKindEnum": "apps.activities.models.CampaignKind",
        "PointsRuleKindEnum": "apps.points.models.RuleKind",
    },
}

# --- Security (checked by `manage.py check --deploy`) ----------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe the health check over plain HTTP on the internal network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Platform ---
# Who reaches which organisations: the organisations app answers for the whole platform.
PLATFORM_SCOPE_PROVIDER = "apps.organizations.selectors.scope_for_user"
# Seconds a user's scope is kept in the cache between requests (0: computed on every request).
# Any change to roles, memberships or organisations makes the kept scopes unused at once; the
# time only bounds changes made outside the platform (raw SQL, a restored backup).
SCOPE_CACHE_SECONDS = env.int("SCOPE_CACHE_SECONDS", default=300)
PLATFORM_NAME = env.str("PLATFORM_NAME", default="")
HEALTHZ_BROKER_TIMEOUT = 2

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
