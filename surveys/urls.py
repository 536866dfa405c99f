from django.urls import path

from surveys.views import public, staff

app_name = "surveys"

urlpatterns = [
    path("results/", staff.results, name="results"),
    path("results/responses/<int:response_id>/themes/", staff.response_themes, name="response-themes"),
    path("<str:signed>/", public.answer, name="answer"),
    path("<str:signed>/thanks/", public.thanks, name="thanks"),
    path("<str:signed>/opt-out/", public.opt_out, name="opt-out"),
]
