"""Django admin under hostile input: no page of any registered ModelAdmin answers a 5xx.

For every model in `admin.site._registry`, as a superuser: the change list with garbage
query strings (unknown filters, ordering, search, page), the add form and a change form
posted with hypothesis-generated hostile values (NUL bytes, line breaks, huge and negative
numbers, dates outside 1900-2199, invalid choices, missing fields), and admin actions on
bogus selections. A refused POST changes no rows; admin stays CSRF-protected; a manager
gets no admin page they have no permission for. The test client re-raises any exception a
view lets through, so a 500 fails here with its traceback.
"""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f
from tests.api_support import make_world
from tests.surveys_support import InvitationFactory, SkipFactory
from tests.transaction_support import rolled_back

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]

RUN = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


def label(model):
    return model._meta.label


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def world(admin_user, csm):
    """At least one row of every registered model, for the change forms and actions."""
    built = make_world(owner=csm)
    customer, contact = built.customer, built.contact
    f.KpiSnapshotFactory()
    f.StaleRangeFactory()
    f.UserDayActivityFactory(customer=customer, contact=contact)
    f.CustomerDayFeatureFactory(customer=customer)
    f.UserMonthActivityFactory(customer=customer, contact=contact)
    f.CustomerMonthFeatureFactory(customer=customer)
    f.UsageSessionFactory(customer=customer, contact=contact)
    f.HealthScoreFactory(customer=customer)
    f.CsmRatingFactory(customer=customer, author=csm)
    f.QualityIssueFactory(customer=customer)
    f.SnapshotVerificationFactory()
    f.ChurnBacktestFactory(model=f.ChurnScoreFactory(customer=customer).model)
    playbook = f.PlaybookStepFactory(playbook__name="Save the account").playbook
    alert = f.AlertFactory(customer=customer, task=built.task, rule__playbook=playbook)
    f.PlaybookRunFactory(playbook=playbook, customer=customer, alert=alert, started_by=csm)
    f.WebhookDeliveryFactory()
    f.ConnectionFactory()
    f.InboundEventFactory()
    f.ChatDeliveryFactory(channel__user=csm)
    f.ObjectVersionFactory()
    InvitationFactory(survey=built.survey, contact=contact)
    SkipFactory(survey=built.survey, contact=contact)
    f.TokenFactory(user=csm)
    f.AccessAttemptFactory()
    f.AccessFailureLogFactory()
    f.PeriodicTaskFactory()
    f.CrontabScheduleFactory()
    f.SolarScheduleFactory()
    f.ClockedScheduleFactory()
    f.TOTPDeviceFactory(user=admin_user)
    return built


def any_row(model):
    return model._default_manager.order_by("pk").first()


# --- hostile values --------------------------------------------------------------------

TEXT = st.one_of(
    st.sampled_from(["a\x00b", "\x00", "line\r\nbreak\n", "x" * 20_000, "‮𝔘nicode\u200b😀", " ", "", "<script>", "%00", "'; --"]),
    st.text(max_size=30),
)
NUMBER = st.sampled_from(
    ["-1", "-0.01", "0", "1e400", "-1e400", "99999999999999999999999999999", "NaN", "Infinity", "-Infinity", "1.23456789012345", "abc", "\x00", ""]
)
DATE = st.sampled_from(["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31", "2024-02-30", "10000-01-01", "-1-01-01", "yesterday", "\x00", ""])
TIME = st.sampled_from(["25:61", "00:00", "23:59:59.999999", "x", ""])
# Keys beyond 64 bits: on SQLite, Django's own ModelMultipleChoiceField and change-list filters
# raise OverflowError (a 500) for them; PostgreSQL, the production database, answers a form error.
HUGE_KEY = ["99999999999999999999"] if connection.vendor == "postgresql" else []
CHOICE = st.sampled_from(["bogus", "-1", "0", "999999999", *HUGE_KEY, "\x00", "1 OR 1=1", ""])
JSON = st.sampled_from(["{", "null", "[]", '{"a": "\\u0000"}', '"\\u0000"', "1e400", '{"a": NaN}', "[" * 500, ""])
BOOL = st.sampled_from(["on", "off", "maybe", "\x00", ""])


def strategy_for(field):
    """Hostile raw values for one form field (a list of strings per submitted name)."""
    if isinstance(field, forms.SplitDateTimeField):
        return st.tuples(DATE, TIME)
    if isinstance(field, (forms.ModelMultipleChoiceField, forms.MultipleChoiceField)):
        return st.lists(CHOICE, max_size=3)
    if isinstance(field, (forms.ModelChoiceField, forms.ChoiceField)):
        return CHOICE
    if isinstance(field, forms.JSONField):
        return JSON
    if isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField)):
        return NUMBER
    if isinstance(field, (forms.DateTimeField, forms.DateField)):
        return DATE
    if isinstance(field, forms.TimeField):
        return TIME
    if isinstance(field, forms.DurationField):
        return st.sampled_from(["-999999999 00:00:00", "999999999999 days", "x", ""])
    if isinstance(field, forms.BooleanField):
        return BOOL
    return TEXT


def rendered_forms(response):
    """The main form and the inline formsets' management data of an admin form page."""
    context = response.context
    form = context["adminform"].form if "adminform" in context else context.get("form")
    management = {}
    for inline in context.get("inline_admin_formsets", []) or []:
        mf = inline.formset.management_form
        for name, bound in mf.initial.items():
            management[f"{mf.prefix}-{name}"] = bound
    return form, management


@st.composite
def hostile_post(draw, form):
    data = {}
    if form is None:
        return data
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField) or draw(st.integers(0, 5)) == 0:
            continue  # a missing field
        value = draw(strategy_for(field))
        if isinstance(field, forms.SplitDateTimeField):
            data[f"{name}_0"], data[f"{name}_1"] = value
        else:
            data[name] = value
    return data


def assert_not_5xx(response):
    assert response.status_code < 500, response.status_code


def assert_refused_or_done(response, model, before):
    assert_not_5xx(response)
    if response.status_code in (200, 400, 403):
        assert model._default_manager.count() == before, "a refused admin POST changed rows"
    else:
        assert response.status_code == 302, response.status_code


# --- change lists ----------------------------------------------------------------------

QUERIES = st.dictionaries(
    st.sampled_from(["q", "o", "p", "e", "all", "_to_field", "_popup", "nosuchfield", "customer__id__exact", "id__gt", "pk__in", "created_at__gte", "is_active"]),
    st.one_of(TEXT, NUMBER if HUGE_KEY else NUMBER.filter(lambda n: len(n) < 19), DATE, st.sampled_from(["-1", "1.2.3", "0.-5.x", "99999999999", *HUGE_KEY, "-0", "id", "__class__"])),
    max_size=4,
)


@pytest.mark.parametrize("model", MODELS, ids=label)
@RUN
@given(query=QUERIES)
def test_the_change_list_survives_any_query_string(admin_client, world, model, query):
    assert_not_5xx(admin_client.get(url(model, "changelist"), query))


# --- add and change forms --------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=label)
@RUN
@given(data=st.data())
def test_the_add_form_refuses_hostile_values_without_saving(admin_client, world, model, data):
    response = admin_client.get(url(model, "add"))
    assert_not_5xx(response)
    if response.status_code != 200:
        return  # the admin does not let anyone add these (computed or log rows)
    form, management = rendered_forms(response)
    post = {**management, **data.draw(hostile_post(form))}
    with rolled_back():
        before = model._default_manager.count()
        assert_refused_or_done(admin_client.post(url(model, "add"), post), model, before)


@pytest.mark.parametrize("model", MODELS, ids=label)
@RUN
@given(data=st.data())
def test_the_change_form_refuses_hostile_values_without_saving(admin_client, world, model, data):
    row = any_row(model)
    if row is None:
        pytest.skip(f"no {label(model)} row in the test world")
    change = url(model, "change", row.pk)
    response = admin_client.get(change)
    assert_not_5xx(response)
    if response.status_code != 200:
        return
    form, management = rendered_forms(response)
    post = {**management, **data.draw(hostile_post(form))}
    with rolled_back():
        before = model._default_manager.count()
        assert_refused_or_done(admin_client.post(change, post), model, before)


@pytest.mark.parametrize("model", MODELS, ids=label)
def test_change_and_history_pages_of_bogus_ids_are_not_5xx(admin_client, world, model):
    for bogus in ("0", "-1", "99999999999999999999", "abc", "%00", "1%20OR%201=1"):
        for view in ("change", "delete", "history"):
            try:
                target = url(model, view, bogus)
            except NoReverseMatch:
                continue
            assert_not_5xx(admin_client.get(target))


# --- actions ---------------------------------------------------------------------------


def actions_of(model):
    return ["delete_selected", "no_such_action", "", *(admin.site._registry[model].actions or [])]


@pytest.mark.parametrize("model", MODELS, ids=label)
@RUN
@given(
    selection=st.lists(st.sampled_from(["abc", "-1", "0", "99999999999999999999", "\x00", "1 OR 1=1", ""]), max_size=3),
    select_across=st.sampled_from(["0", "1", "x"]),
    index=st.sampled_from(["0", "-1", "x", "99"]),
    data=st.data(),
)
def test_actions_on_bogus_selections_change_nothing(admin_client, world, model, selection, select_across, index, data):
    action = data.draw(st.sampled_from(actions_of(model)))
    body = {"action": action, ACTION_CHECKBOX_NAME: selection, "index": index}
    if select_across != "1":
        body["select_across"] = select_across
    with rolled_back():
        before = model._default_manager.count()
        response = admin_client.post(url(model, "changelist"), body)
        assert_not_5xx(response)
        if action != "delete_selected" or response.status_code == 302:
            # No real row was selected: delete (if it confirms) only asks; nothing else may change rows.
            assert model._default_manager.count() == before


# --- CSRF and permissions --------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=label)
def test_admin_posts_without_a_csrf_token_are_refused(admin_user, world, model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = model._default_manager.count()
    assert client.post(url(model, "add"), {}).status_code == 403
    assert client.post(url(model, "changelist"), {"action": "delete_selected", ACTION_CHECKBOX_NAME: ["1"]}).status_code == 403
    row = any_row(model)
    if row is not None:
        assert client.post(url(model, "change", row.pk), {}).status_code == 403
        assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model._default_manager.count() == before


@pytest.mark.parametrize("model", MODELS, ids=label)
def test_a_manager_gets_no_admin_page_without_the_permission(client, manager, world, model):
    client.force_login(manager)
    opts = model._meta
    row = any_row(model)
    pages = {
        "changelist": (url(model, "changelist"), ("view", "change")),
        "add": (url(model, "add"), ("add",)),
    }
    if row is not None:
        pages["change"] = (url(model, "change", row.pk), ("view", "change"))
        pages["delete"] = (url(model, "delete", row.pk), ("delete",))
    for name, (target, perms) in pages.items():
        allowed = any(manager.has_perm(f"{opts.app_label}.{perm}_{opts.model_name}") for perm in perms)
        response = client.get(target)
        assert_not_5xx(response)
        if not allowed:
            assert response.status_code in (302, 403), (name, response.status_code)
    before = model._default_manager.count()
    if row is not None and not manager.has_perm(f"{opts.app_label}.delete_{opts.model_name}"):
        assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code in (302, 403)
    if not manager.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
        assert client.post(url(model, "add"), {}).status_code in (302, 403)
    assert model._default_manager.count() == before
