"""The access matrix, generated from the URL conf: every route × every role, checked against the policy.

`ROUTES` holds one row per named route (admin aside: it is Django's, for admins only): how
to call it and what each role must get. `test_every_route_has_a_row` walks the URL conf,
so a new route without a row fails the suite. Every answer is checked for its status and,
when it shows data, for rows of customers the role may not see: the other portfolio's
customer, its contact, its survey comment (JSON, HTML and CSV alike).

Roles (accounts.policy): anonymous; carla, a CSM who owns "Acme Owned"; sam, a CSM assigned
to it without owning it; otto, a CSM who owns "Zeta Foreign"; a manager; an admin.
"""

import datetime
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import ChurnReason
from alerts.models import AlertRule
from alerts.services import alert_fire
from surveys.models import Survey
from tests import factories as f
from tests.api_support import fresh_throttles, tmp_media  # noqa: F401
from tests.surveys_support import InvitationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles", "tmp_media")]

PERSONAS = ("anonymous", "owner", "assigned", "other", "manager", "admin")
LOGIN = "login"  # a redirect to the login page
OK = "ok"  # done: 2xx, or a redirect elsewhere than the login page
JSON = "application/json"


def roles(anonymous, owner, assigned, other, manager, admin):
    return dict(zip(PERSONAS, (anonymous, owner, assigned, other, manager, admin), strict=True))


# Pages and endpoints about one customer (Acme, carla's, assigned to sam): otto finds no such customer.
PAGE = roles(LOGIN, 200, 200, 200, 200, 200)
CUSTOMER_PAGE = roles(LOGIN, 200, 200, 404, 200, 200)
CUSTOMER_WRITE = roles(LOGIN, OK, OK, 404, 403, OK)  # managers read only
ADMIN_PAGE = roles(LOGIN, 403, 403, 403, 403, 200)
ADMIN_WRITE = roles(LOGIN, 403, 403, 403, 403, OK)
RULES_PAGE = roles(LOGIN, 403, 403, 403, 200, 200)
PUBLIC = roles(200, 200, 200, 200, 200, 200)
API = roles(401, 200, 200, 200, 200, 200)
API_CUSTOMER = roles(401, 200, 200, 404, 200, 200)
API_CUSTOMER_WRITE = roles(401, OK, OK, 404, 403, OK)
API_COMPANY = roles(401, 403, 403, 403, 200, 200)
API_ADMIN = roles(401, 403, 403, 403, 403, 200)
API_ADMIN_WRITE = roles(401, 403, 403, 403, 403, OK)


@dataclass
class Call:
    """One request of a route: its method, arguments (names of `World` attributes), query and body."""

    expected: dict
    method: str = "get"
    args: tuple = ()
    query: dict = field(default_factory=dict)
    data: object = None
    api: bool = False  # send the persona's token instead of a session
    content_type: str | None = None  # a raw body (`data`, a string) of this type


def api_write(resource, body):
    return Call(API_CUSTOMER_WRITE, "patch", ("{%s}" % resource,), data=body, api=True)


ROUTES: dict[str, list[Call]] = {
    # --- REST API ---------------------------------------------------------------------------
    "schema": [Call(PUBLIC)],  # public: the contract, not data (docs/security.md)
    "api-docs": [Call(PUBLIC)],
    "api-redoc": [Call(PUBLIC)],
    "api-root": [Call(API, api=True)],
    "kpis": [Call(API, query={"start": "2024-01-01", "end": "2024-02-01"}, api=True),
             Call(API_CUSTOMER, query={"start": "2024-01-01", "end": "2024-02-01", "customer": "{customer}"}, api=True)],
    "kpi-series": [Call(API, query={"start": "2024-01-01", "end": "2024-03-01"}, api=True)],
    "kpi-rows": [Call(API, args=("nps",), query={"start": "2024-01-01", "end": "2024-12-01"}, api=True),
                 Call(roles(401, 403, 403, 403, 200, 200), args=("conversion_rate",),
                      query={"start": "2024-01-01", "end": "2024-12-01"}, api=True)],
    "auth-token": [Call(roles(401, 405, 405, 405, 405, 405), api=True)],
    "customer-health": [Call(API_CUSTOMER, args=("{customer}",), api=True)],
    "kpi-snapshot-list": [Call(API, api=True)],
    "kpi-snapshot-detail": [Call(API_CUSTOMER, args=("{snapshot}",), api=True)],
    "kpi-snapshot-recompute": [Call(roles(401, 403, 403, 403, 403, 202), "post", api=True,
                                    data={"start": "2024-01-01", "end": "2024-02-01"})],
    "customer-list": [Call(API, api=True)],
    "customer-detail": [Call(API_CUSTOMER, args=("{customer}",), api=True),
                        api_write("customer", {"segment": "Mid"})],
    "contact-list": [Call(API, api=True)],
    "contact-detail": [Call(API_CUSTOMER, args=("{contact}",), api=True), api_write("contact", {"name": "Renamed"})],
    "subscription-list": [Call(API, api=True)],
    "subscription-detail": [Call(API_CUSTOMER, args=("{subscription}",), api=True),
                            api_write("subscription", {"plan": "Enterprise"})],
    "churn-reason-list": [Call(API, api=True)],
    "churn-reason-detail": [Call(API, args=("{churn_reason}",), api=True)],
    "ticket-list": [Call(API, api=True)],
    "ticket-detail": [Call(API_CUSTOMER, args=("{ticket}",), api=True), api_write("ticket", {"subject": "Renamed"})],
    "usage-event-list": [Call(API, api=True)],
    "survey-response-list": [Call(API, api=True)],
    "survey-response-detail": [
        Call(API_CUSTOMER, args=("{imported_answer}",), api=True),
        api_write("imported_answer", {"comment": "Corrected"}),
        # an answer given through the survey link is the contact's: nobody changes it
        Call(roles(401, 403, 403, 404, 403, 403), "patch", ("{linked_answer}",), data={"comment": "x"}, api=True),
    ],
    "survey-list": [Call(API, api=True)],
    "survey-detail": [Call(API, args=("{survey}",), api=True),
                      Call(API_ADMIN_WRITE, "patch", ("{survey}",), data={"name": "Renamed"}, api=True)],
    "survey-send": [Call(roles(401, 403, 403, 403, 403, 202), "post", ("{survey}",), api=True)],
    "cost-list": [Call(API_COMPANY, api=True)],
    "cost-detail": [Call(API_COMPANY, args=("{cost}",), api=True),
                    Call(API_ADMIN_WRITE, "patch", ("{cost}",), data={"amount": "11"}, api=True)],
    "lead-list": [Call(API_COMPANY, api=True)],
    "lead-detail": [Call(API_COMPANY, args=("{lead}",), api=True),
                    Call(API_ADMIN_WRITE, "patch", ("{lead}",), data={"source": "ads"}, api=True)],
    "task-list": [Call(API, api=True)],
    "task-detail": [Call(API_CUSTOMER, args=("{task}",), api=True), api_write("task", {"title": "Renamed"})],
    "note-list": [Call(API, api=True)],
    "note-detail": [Call(API_CUSTOMER, args=("{note}",), api=True), api_write("note", {"body": "Renamed"})],
    "import-list": [Call(API_ADMIN, api=True)],
    "import-detail": [Call(API_ADMIN, args=("{import_job}",), api=True)],
    # --- Survey links (the signed link is the credential) and results -----------------------
    "surveys:results": [Call(PAGE)],
    "surveys:response-themes": [Call(CUSTOMER_WRITE, "post", ("{imported_answer}",), data={"themes": "price"})],
    "surveys:answer": [Call(PUBLIC, args=("{signed}",))],
    "surveys:thanks": [Call(roles(OK, OK, OK, OK, OK, OK), args=("{signed}",))],  # not answered yet: to the question
    "surveys:opt-out": [Call(roles(405, 405, 405, 405, 405, 405), args=("{signed}",))],
    # --- Login and passwords (Django's) ----------------------------------------------------
    "login": [Call(PUBLIC)],
    "logout": [Call(roles(405, 405, 405, 405, 405, 405))],
    "password_change": [Call(PAGE)],
    "password_change_done": [Call(PAGE)],
    "password_reset": [Call(PUBLIC)],
    "password_reset_done": [Call(PUBLIC)],
    "password_reset_confirm": [Call(PUBLIC, args=("MQ", "bad-token"))],
    "password_reset_complete": [Call(PUBLIC)],
    "set_language": [Call(roles(OK, OK, OK, OK, OK, OK), "post", data={"language": "de"})],
    # --- Incoming integrations: signed by the sender, refused without a signature --------------
    "integrations:segment": [Call(roles(401, 401, 401, 401, 401, 401), "post", ("track",), data="{}", content_type=JSON)],
    "integrations:stripe": [Call(roles(400, 400, 400, 400, 400, 400), "post", data="{}", content_type=JSON)],
    "integrations:zendesk": [Call(roles(401, 401, 401, 401, 401, 401), "post", data="{}", content_type=JSON)],
    # --- Health, alerts, churn model pages --------------------------------------------------
    "alerts:backtest": [Call(ADMIN_PAGE)],
    "alerts:health-changes": [Call(PAGE)],
    "alerts:rules": [Call(RULES_PAGE),
                     Call(ADMIN_WRITE, "post", data={"name": "New", "kind": "renewal", "threshold": 30})],
    "alerts:rule": [Call(RULES_PAGE, args=("{rule}",)), Call(ADMIN_WRITE, "post", ("{rule}",), data={"weeks": 2})],
    "alerts:rule-toggle": [Call(ADMIN_WRITE, "post", ("{rule}",), data={"enabled": "0"})],
    "alerts:account-health": [Call(CUSTOMER_PAGE, args=("{customer}",))],
    "alerts:playbook-start": [Call(CUSTOMER_WRITE, "post", ("{customer}",), data={})],
    "alerts:rating-add": [Call(CUSTOMER_WRITE, "post", ("{customer}",), data={"rating": 2, "comment": "ok"})],
    "churn:model": [Call(PAGE), Call(ADMIN_WRITE, "post", data={"action": "train"})],
    "churn:account-risk": [Call(CUSTOMER_PAGE, args=("{customer}",))],
    # --- The CSM app ------------------------------------------------------------------------
    "web:portfolio": [Call(PAGE)],
    "web:portfolio-export": [Call(PAGE)],
    "web:account": [Call(CUSTOMER_PAGE, args=("{customer}",))],
    "web:account-timeline": [Call(roles(LOGIN, OK, OK, 404, OK, OK), args=("{customer}",))],
    "web:note-create": [Call(CUSTOMER_WRITE, "post", ("{customer}",), data={"body": "Called them"})],
    "web:task-create": [Call(CUSTOMER_WRITE, "post", ("{customer}",), data={"title": "Call again"})],
    "web:tasks": [Call(PAGE)],
    "web:task-complete": [Call(CUSTOMER_WRITE, "post", ("{task}",))],
    "web:reports": [Call(PAGE)],
    "web:report-export": [Call(PAGE)],
    "web:report-rows": [Call(PAGE, args=("nps",), query={"start": "2024-01-01", "end": "2024-12-01"}),
                        Call(roles(LOGIN, 403, 403, 403, 200, 200), args=("conversion_rate",),
                             query={"start": "2024-01-01", "end": "2024-12-01", "scope": "company"})],
    "web:kpi-definitions": [Call(PAGE)],
    "web:inbox": [Call(PAGE)],
    "web:inbox-badge": [Call(PAGE)],
    "web:alert-acknowledge": [Call(CUSTOMER_WRITE, "post", ("{alert}",))],
    "web:alert-snooze": [Call(CUSTOMER_WRITE, "post", ("{alert}",), data={"until": "2099-01-01"})],
    "web:alert-resolve": [Call(CUSTOMER_WRITE, "post", ("{alert}",), data={"note": "done"})],
    "web:renewals": [Call(PAGE)],
    "web:cohorts": [Call(PAGE)],
    "web:cohort-cell": [Call(PAGE)],
    "web:churn-reasons": [Call(PAGE)],
    "web:end-reason": [Call(CUSTOMER_WRITE, args=("{customer}", "{ended}"))],
    "web:profile": [Call(PAGE)],
    "web:token": [Call(roles(LOGIN, OK, OK, OK, OK, OK), "post", data={"action": "create"})],
}
# Routes without a row, and why.
UNLISTED = {
    None: "favicon.ico: a redirect to a static file",
}


def route_names():
    """Every named route of the URL conf but Django admin's: (namespace:)name."""
    names = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("admin/"):
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_route_has_a_row():
    names = route_names()
    assert names - set(ROUTES) - set(UNLISTED) == set(), "routes without a row in the access matrix"
    assert set(ROUTES) - names == set(), "rows of routes that no longer exist"


@pytest.fixture
def world(csm, outsider, manager, admin_user):
    sam = f.UserFactory(username="sam", role="csm")
    acme = f.CustomerFactory(owner=csm, external_id="ACME", name="Acme Owned", segment="SMB")
    acme.assigned_users.add(sam)
    zeta = f.CustomerFactory(owner=outsider, external_id="ZETA", name="Zeta Foreign", segment="SMB")
    objects = {"customer": acme, "foreign_customer": zeta}
    for prefix, customer in (("", acme), ("foreign_", zeta)):
        contact = f.ContactFactory(customer=customer, name=f"{customer.name} Contact", email=f"{customer.external_id.lower()}@example.com")
        f.SubscriptionFactory(customer=customer, started_at=datetime.date(2023, 1, 1), ended_at=None)
        objects[f"{prefix}contact"] = contact
        objects[f"{prefix}subscription"] = f.SubscriptionFactory(
            customer=customer, plan="Old", started_at=datetime.date(2023, 1, 1), ended_at=datetime.date(2024, 1, 1)
        )
        objects[f"{prefix}ticket"] = f.TicketFactory(customer=customer, subject=f"{customer.name} ticket")
        objects[f"{prefix}imported_answer"] = f.SurveyResponseFactory(
            customer=customer, contact=contact, score=3, comment=f"{customer.name} secret comment",
            responded_at=datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC),
        )  # fmt: skip
        objects[f"{prefix}task"] = f.TaskFactory(customer=customer, assignee=customer.owner, title=f"{customer.name} task")
        objects[f"{prefix}note"] = f.NoteFactory(customer=customer, author=customer.owner, body=f"{customer.name} note")
    objects["ended"] = objects["subscription"]
    invitation = InvitationFactory(contact=objects["contact"])
    objects["linked_answer"] = f.SurveyResponseFactory(customer=acme, contact=objects["contact"], invitation=invitation)
    from surveys.tokens import sign  # noqa: PLC0415

    now = timezone.now()
    open_invitation = InvitationFactory(contact=objects["contact"], created_at=now, expires_at=now + datetime.timedelta(days=14))
    objects["signed"] = sign(open_invitation.token)
    objects["cost"] = f.CostEntryFactory(month=datetime.date(2024, 1, 1))
    objects["lead"] = f.LeadFactory(customer=acme)
    objects["survey"] = Survey.objects.create(name="Q NPS", survey_type="nps", question_en="?", question_de="?",
                                              status=Survey.Status.ACTIVE)  # fmt: skip
    from importing.models import ImportJob  # noqa: PLC0415

    objects["import_job"] = ImportJob.objects.create(kind="customers", file="imports/x.csv", original_name="x.csv")
    objects["snapshot"] = f.KpiSnapshotFactory(scope=f"customer:{acme.pk}")
    objects["churn_reason"] = ChurnReason.objects.first()
    objects["rule"] = AlertRule.objects.create(name="Renewals", kind="renewal", threshold=30)
    objects["alert"] = alert_fire(rule=objects["rule"], customer=acme, day=datetime.date(2024, 3, 4), details={})
    alert_fire(rule=objects["rule"], customer=zeta, day=datetime.date(2024, 3, 4), details={})
    users = {"anonymous": None, "owner": csm, "assigned": sam, "other": outsider, "manager": manager, "admin": admin_user}
    return objects, users


def foreign_texts(objects, persona) -> list[str]:
    """What a persona must never read: the other portfolio's customer, contact and survey comment."""
    if persona in ("owner", "assigned"):
        customer = objects["foreign_customer"]
    elif persona == "other":
        customer = objects["customer"]
    else:
        return []
    return [customer.name, f"{customer.name} Contact", f"{customer.name} secret comment", customer.external_id.lower() + "@"]


def _arg(objects, arg):
    if isinstance(arg, str) and arg.startswith("{"):
        value = objects[arg.strip("{}")]
        return getattr(value, "pk", value)
    return arg


def _request(client, call, url, user):
    if call.api:
        from rest_framework.test import APIClient  # noqa: PLC0415

        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return getattr(client, call.method)(url, call.data if call.method != "get" else call.query, format="json")
    if user is not None:
        client.force_login(user)
    if call.method == "get":
        return client.get(url, call.query)
    if call.content_type:
        return getattr(client, call.method)(url, call.data, content_type=call.content_type)
    return getattr(client, call.method)(url, call.data or {})


def _matches(response, expected) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(reverse("login"))
    if expected == OK:
        location = response.get("Location", "")
        return response.status_code < 400 and not location.startswith(reverse("login"))
    return response.status_code == expected


CASES = [
    pytest.param(name, i, persona, id=f"{name}-{call.method}{i}-{persona}")
    for name, calls in ROUTES.items()
    for i, call in enumerate(calls)
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "index", "persona"), CASES)
def test_route_answers_each_role_as_the_policy_says(world, client, name, index, persona, django_capture_on_commit_callbacks):
    objects, users = world
    call = ROUTES[name][index]
    url = reverse(name, args=[_arg(objects, a) for a in call.args])
    query = {k: _arg(objects, v) for k, v in call.query.items()}
    call = Call(call.expected, call.method, call.args, query, call.data, call.api, call.content_type)
    response = _request(client, call, url, users[persona])
    expected = call.expected[persona]
    body = response.content.decode(errors="replace") if hasattr(response, "content") else ""
    assert _matches(response, expected), (response.status_code, response.get("Location"), body[:300])
    if call.method == "get" and response.status_code == 200:
        for text in foreign_texts(objects, persona):
            assert text not in body, f"{text!r} in {name} for {persona}"
