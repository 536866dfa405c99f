"""Settings for the benchmarks: production settings (DEBUG off) made servable on 127.0.0.1 without TLS.

Also serves benchmarks.urls (the site plus a bare one-insert view) and lifts the survey
pages' rate limit, so the load generator measures the view rather than the limiter.
"""

import os
import warnings

os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("EMAIL_URL", "memorymail://")

from csplatform.settings import *  # noqa: E402,F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CSPLATFORM_SURVEY_RATELIMIT = "1000000/m"
ROOT_URLCONF = "benchmarks.urls"
warnings.filterwarnings("ignore", "No directory at")  # WhiteNoise: static files are not collected here
