"""The site's URLs plus /bench/insert/: a bare Django view doing one INSERT, the survey benchmark's baseline."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from csplatform.urls import urlpatterns as site_urlpatterns

BARE_TABLE = "bench_hit"


@csrf_exempt
@require_POST
def bare_insert(request):
    """Insert one row and answer: the least a submit can cost in Django on this stack."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (created_at) VALUES (now())")
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/insert/", bare_insert), *site_urlpatterns]
