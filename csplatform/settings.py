"""Settings for csplatform, read from the environment (12-factor).

Every setting a deployment changes comes from an environment variable (or a `.env`
file beside manage.py). The defaults are the embedded ones: an SQLite file and a
filesystem Celery broker, so a new user needs no server.
"""

import datetime
from pathlib import Path

import environ
from csp import constants as csp

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# A fixed development key only while DEBUG is on; production must set its own.
SECRET_KEY = env("SECRET_KEY", default="dev-insecure-key-change-me" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "csplatform.apps.AdminConfig",  # django.contrib.admin with our site (optional staff 2FA)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "simple_history",
    "accounts",
    "importing",
    "surveys",
    "metrics",
    "churn",
    "web",
    "alerts",
    "simulation",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csplatform.middleware.DatabaseUnavailableMiddleware",  # 503 while the database is unreachable
    "csplatform.middleware.RefuseNulMiddleware",  # 400 for a NUL in a query or form field
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout response
]

ROOT_URLCONF = "csplatform.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "web.context_processors.role",
                "web.context_processors.inbox",
            ],
        },
    },
]

WSGI_APPLICATION = "csplatform.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'csplatform.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if env("DATABASE_REPLICA_URL", default=""):
    # A read replica for the team reports and the KPI API (lib/db_routing.py, docs/scaling.md).
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["lib.db_routing.ReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+IP before any password is checked.
# Then passwords (refused for non-superusers in "SSO only" mode), then OpenID Connect (integrations/sso.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "integrations.sso.PasswordBackend",
    "integrations.sso.OIDCBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://" + str(VAR_DIR / "mail"))
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG.get("EMAIL_BACKEND") == "django.core.mail.backends.filebased.EmailBackend":
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="csplatform <noreply@localhost>")

# --- Security: strict by default once DEBUG is off (manage.py check --deploy is clean) ---
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content Security Policy (django-csp) for every page: no inline script or style anywhere.
# A page that needs an inline block (the Swagger UI page) marks it with the request's nonce;
# Redoc alone relaxes style-src (csplatform/api_urls.py).
# The public survey pages send their own stricter header, which the middleware leaves alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],  # the nonce appears only on responses that used it
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "frame-ancestors": [csp.NONE],
        "form-action": [csp.SELF],
    },
}

# Login throttling (django-axes): 5 wrong passwords for one username from one IP lock that
# pair out for 15 minutes; web login, admin login and POST /api/v1/auth/token/ all count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "web.lockout.lockout_response"
# Behind a proxy, the same header the survey rate limit trusts (never a client-settable one by default).
AXES_IPWARE_META_PRECEDENCE_ORDER = (env("RATELIMIT_IP_META_KEY", default=None) or "REMOTE_ADDR",)

# Two-factor authentication (django-otp): when on, Django admin asks staff for a TOTP code.
CSPLATFORM_STAFF_2FA = env.bool("CSPLATFORM_STAFF_2FA", default=False)
OTP_TOTP_ISSUER = "csplatform"
# Audit history (django-simple-history) of customers, subscriptions and health models: read-only in admin.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Celery: Redis in production, an embedded filesystem broker by default ---
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A task taken but not acknowledged (acks_late: snapshot chunks) goes back to the queue when
    # its worker dies, after this many seconds (Celery's default is an hour); it must exceed the
    # longest task's time limit, or a slow task would run twice at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CSPLATFORM_TASK_VISIBILITY_SECONDS", default=900)}
# Chunk tasks (50 KPI scopes, 500 health scores) take seconds to a minute on the demo: a chunk still
# running after these limits is stuck, and is stopped (soft: an exception it may log) and retried.
CSPLATFORM_CHUNK_SOFT_TIME_LIMIT = env.int("CSPLATFORM_CHUNK_SOFT_TIME_LIMIT", default=540)
CSPLATFORM_CHUNK_TIME_LIMIT = env.int("CSPLATFORM_CHUNK_TIME_LIMIT", default=600)
# A running import renews its lease with its progress (PostgreSQL; on SQLite only when it starts):
# a job whose lease ran out lost its worker and is run again (importing.jobs_reclaim).
CSPLATFORM_IMPORT_LEASE_SECONDS = env.int("CSPLATFORM_IMPORT_LEASE_SECONDS", default=1800)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- REST framework ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "lib.schema.AutoSchema",  # documents the error answers of each operation
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="1200/minute"),
        "auth": env("API_THROTTLE_AUTH", default="10/minute"),  # password attempts at /api/v1/auth/token/
    },
    "EXCEPTION_HANDLER": "lib.rest.exception_handler",
    # JSON bodies only, so the schema offers one request body per operation (generated clients
    # cannot choose between several); the import upload sets its own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["lib.parsers.UnicodeJSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "csplatform API",
    "DESCRIPTION": "Customer success data and KPIs. Versioning, pagination, errors and client generation: docs/api.md.",
    "VERSION": "1.1.0",  # docs/api.md: minor for additions, a new /api/vN/ for breaking changes
    "SERVE_INCLUDE_SCHEMA": False,
    # 3.1: nullable types as JSON Schema has them, and `webhooks` for the messages we send.
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": ["alerts.webhook_schema.ALERT_FIRED", "alerts.webhook_schema.PLAYBOOK_STEP"],
    # Enum names are part of what generated clients import: pinned, so a new enum elsewhere
    # cannot rename these (docs/api.md, versioning).
    "ENUM_NAME_OVERRIDES": {
        "ImportKindEnum": "importing.runner.KINDS",
        "HealthBandEnum": "metrics.kpis.HEALTH_BANDS",
        "KpiIntervalEnum": "metrics.periods.INTERVALS",
        "MrrMovementEnum": "metrics.serializers.MOVEMENTS",
        "CostCategoryEnum": "accounts.models.CostEntry.Category",
        "TaskSourceEnum": "accounts.models.Task.Source",
        "SurveyTargetEnum": "surveys.models.Survey.Target",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "alerts.webhook_schema.add_signature_headers",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from our static files: no CDN (self-hosted installs, strict CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- csplatform domain settings (see spec/kpis.md) ---
CSPLATFORM_REPORTING_CURRENCY = env("CSPLATFORM_REPORTING_CURRENCY", default="EUR")
CSPLATFORM_REPORTING_TZ = env("CSPLATFORM_REPORTING_TZ", default="UTC")
# Data-quality gate (metrics/quality.py): a day with fewer events than this share of the
# median of the 28 days before, and a month-to-month MRR change by more than this factor, are flagged.
CSPLATFORM_QUALITY_LOW_EVENTS_SHARE = env.float("CSPLATFORM_QUALITY_LOW_EVENTS_SHARE", default=0.3)
CSPLATFORM_QUALITY_MRR_FACTOR = env.float("CSPLATFORM_QUALITY_MRR_FACTOR", default=3.0)
# Rates into the reporting currency, e.g. "USD=0.92,GBP=1.17"; imports convert with them.
CSPLATFORM_EXCHANGE_RATES = env.dict("CSPLATFORM_EXCHANGE_RATES", default={})
CSPLATFORM_GROSS_MARGIN = env("CSPLATFORM_GROSS_MARGIN", default="1")
CSPLATFORM_ONBOARDING_STEPS = env.list("CSPLATFORM_ONBOARDING_STEPS", default=[])
CSPLATFORM_ONBOARDING_DAYS = env.int("CSPLATFORM_ONBOARDING_DAYS", default=30)
CSPLATFORM_KEY_FEATURES = env.list("CSPLATFORM_KEY_FEATURES", default=[])
CSPLATFORM_SESSION_GAP_MINUTES = 30
# Largest CSV file the admin upload and the API import accept (the command line has no limit).
CSPLATFORM_MAX_IMPORT_BYTES = env.int("CSPLATFORM_MAX_IMPORT_BYTES", default=500 * 1024 * 1024)

# --- Surveys (see surveys/README.md) ---
# Survey fatigue: days between two invitations to one contact, contacts per customer per quarter.
CSPLATFORM_SURVEY_MIN_DAYS = env.int("CSPLATFORM_SURVEY_MIN_DAYS", default=90)
CSPLATFORM_SURVEY_MAX_CONTACTS_PER_QUARTER = env.int("CSPLATFORM_SURVEY_MAX_CONTACTS_PER_QUARTER", default=5)
CSPLATFORM_SURVEY_REMINDER_DAYS = env.int("CSPLATFORM_SURVEY_REMINDER_DAYS", default=3)
# How long a claimed survey email may take to go out before another worker may send it.
CSPLATFORM_SURVEY_SEND_LEASE_SECONDS = env.int("CSPLATFORM_SURVEY_SEND_LEASE_SECONDS", default=600)
CSPLATFORM_SURVEY_CHANGE_HOURS = env.int("CSPLATFORM_SURVEY_CHANGE_HOURS", default=24)
CSPLATFORM_SURVEY_MIN_SAMPLE = env.int("CSPLATFORM_SURVEY_MIN_SAMPLE", default=30)
CSPLATFORM_SURVEY_RATELIMIT = env("CSPLATFORM_SURVEY_RATELIMIT", default="30/m")
# Absolute base of the links in survey emails, e.g. "https://cs.example.com".
CSPLATFORM_BASE_URL = env("CSPLATFORM_BASE_URL", default="http://localhost:8000")
# The survey pages' rate limit counts in this cache: use Redis (CACHE_URL=redis://…) with several processes.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
RATELIMIT_IP_META_KEY = env("RATELIMIT_IP_META_KEY", default=None)
# Password-reset emails per address asked for, and requests per IP (web.views.password_reset).
CSPLATFORM_PASSWORD_RESET_RATELIMIT = env("CSPLATFORM_PASSWORD_RESET_RATELIMIT", default="3/h")
CSPLATFORM_PASSWORD_RESET_IP_RATELIMIT = env("CSPLATFORM_PASSWORD_RESET_IP_RATELIMIT", default="10/h")

# --- Integrations (docs/integrations.md) ---
# Every connection's settings come from INTEGRATION_<KIND>_<NAME> variables (integrations/config.py)
# unless set on the Integrations page. Failed credential checks per address before 429:
CSPLATFORM_INTEGRATIONS_AUTH_RATELIMIT = env("CSPLATFORM_INTEGRATIONS_AUTH_RATELIMIT", default="30/m")
# Single sign-on (mozilla-django-oidc): the client and the provider's endpoints come from the
# Integrations page or INTEGRATION_OIDC_*; these are fixed.
OIDC_AUTHENTICATE_CLASS = "integrations.sso.AuthenticateView"
OIDC_CALLBACK_CLASS = "integrations.sso.CallbackView"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile groups"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
