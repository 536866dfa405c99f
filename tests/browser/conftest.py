"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Chromium missing fails these tests (CI installs it) unless CSP_SKIP_BROWSER=1 says to skip.
"""

import datetime
import os
import random
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in tests are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync",
]  # fmt: skip
REPO = Path(__file__).resolve().parents[2]


def screenshot_dir() -> Path:
    """Where browser tests save screenshots: $CSPLATFORM_SCREENSHOTS (scripts/screenshots points it at
    docs/screenshots, on purpose), else a directory under /tmp, so the suite never rewrites tracked files."""
    return Path(os.environ.get("CSPLATFORM_SCREENSHOTS") or Path(tempfile.gettempdir()) / "csplatform-screenshots")


SCREENSHOTS = screenshot_dir()
PASSWORD = "pw-Secret-123"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CSP_SKIP_BROWSER") == "1":
            pytest.skip(f"CSP_SKIP_BROWSER=1 and {CHROMIUM} is not installed")
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or set CSP_SKIP_BROWSER=1 to skip)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []

    def ours() -> bool:  # another site's page (a single sign-on provider's login) is not ours to judge
        return page.url.startswith(live_server.url) or page.url == "about:blank"

    page.on("pageerror", lambda error: errors.append(str(error)) if ours() else None)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and ours() else None)
    yield page
    context.close()
    assert not errors, errors  # no JavaScript errors, no CSP violations, no missing files on our pages


@pytest.fixture
def shot():
    """Save a screenshot of the page into `SCREENSHOTS` (a temp dir unless scripts/screenshots runs the tests)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name, full_page=True):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return save


@pytest.fixture
def login():
    return _login


def _login(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


# --- Demo data: a small, realistic portfolio built with the factories --------------------

CUSTOMERS = [
    # name, segment, MRR 13 months ago (0: not yet), MRR now (0: churned), users, contacts, NPS, open tickets
    ("Nordwind Logistik GmbH", "Enterprise", 4200, 4800, 9, 10, [9, 10, 9], 0),
    ("Bergmann & Söhne KG", "Mid-Market", 1800, 1800, 4, 8, [8, 7], 1),
    ("Alpenblick Hotels AG", "Mid-Market", 2400, 1600, 1, 9, [3, 5], 3),
    ("Küstenwerk Solar", "SMB", 0, 650, 3, 4, [9], 0),
    ("Fjord Analytics AS", "SMB", 900, 900, 2, 5, [6], 1),
    ("Rheinpfalz Medien", "SMB", 700, 0, 0, 3, [2], 2),
    ("Quellwasser Brauerei", "SMB", 450, 520, 3, 3, [10], 0),
    ("Helios Pharma AG", "Enterprise", 6900, 5200, 2, 14, [4, 6, 7], 4),
]
COMMENTS = {
    2: "Onboarding new staff takes too long, we need training.",
    3: "Support answered quickly but the problem came back.",
    4: "Reports are slow at month end.",
    9: "Great product, the team loves it.",
    10: "Indispensable for our dispatch planning.",
}


def _month_start(day, back):
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def demo(transactional_db, django_user_model):
    """Users (a CSM, a teammate, a manager) and eleven customers with a year of history."""
    from django.contrib.auth.models import Group

    from accounts.models import CostEntry
    from metrics.models import CustomerDayFeature, UserDayActivity
    from metrics.rollups import rebuild_months
    from tests.factories import (
        ContactFactory,
        CustomerFactory,
        NoteFactory,
        SubscriptionFactory,
        SurveyResponseFactory,
        TaskFactory,
        TicketFactory,
    )

    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("admin", "manager", "csm")}

    def user(username, first, last, role):
        u = django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD,
                                                  first_name=first, last_name=last)  # fmt: skip
        u.groups.add(groups[role])
        return u

    carla = user("carla", "Carla", "Schmidt", "csm")
    david = user("david", "David", "Okafor", "csm")
    mona = user("mona", "Mona", "Berger", "manager")
    rng = random.Random(7)
    today = datetime.date.today()
    features = ["login", "report_export", "dashboard_view", "invite_user", "integration_sync"]
    activity, day_features = [], []
    customers = []
    for n, (name, segment, mrr_then, mrr_now, users, n_contacts, nps, open_tickets) in enumerate(
        CUSTOMERS + [("Tallinn Textiles OÜ", "SMB", 500, 500, 2, 3, [8], 0),
                     ("Lagos Freight Ltd", "Mid-Market", 1500, 1700, 5, 6, [9], 1),
                     ("Porto Ceramics Lda", "SMB", 300, 300, 1, 2, [], 0)]  # fmt: skip
    ):
        owner = carla if n < len(CUSTOMERS) else david
        created = _month_start(today, 13) if mrr_then else _month_start(today, 5)
        customer = CustomerFactory(name=name, segment=segment, owner=owner, created_on=created)
        customers.append(customer)
        contacts = [ContactFactory(customer=customer, name=f"{name.split()[0]} User {i + 1}") for i in range(n_contacts)]
        if mrr_then and mrr_now and mrr_then != mrr_now:
            change = _month_start(today, 2)
            SubscriptionFactory(customer=customer, plan="Business", mrr=Decimal(mrr_then), started_at=created,
                                ended_at=change)  # fmt: skip
            SubscriptionFactory(customer=customer, plan="Business Plus" if mrr_now > mrr_then else "Business Lite",
                                mrr=Decimal(mrr_now), started_at=change,
                                ended_at=today + datetime.timedelta(days=20 + 30 * n))  # fmt: skip
        elif mrr_then and not mrr_now:
            SubscriptionFactory(customer=customer, plan="Starter", mrr=Decimal(mrr_then), started_at=created,
                                ended_at=_month_start(today, 1))  # fmt: skip
        else:
            SubscriptionFactory(customer=customer, plan="Business", mrr=Decimal(mrr_now), started_at=created,
                                ended_at=None if n % 3 else today + datetime.timedelta(days=45 + 10 * n))  # fmt: skip
        for back in range(0, 12 * 30, 3):
            day = today - datetime.timedelta(days=back + 1)
            if day < created:
                break
            active = users if back < 60 else max(1, min(n_contacts, users + rng.randint(-1, 3)))
            for contact in contacts[:active]:
                if rng.random() < 0.7:
                    activity.append(UserDayActivity(customer=customer, contact=contact, day=day,
                                                    events=rng.randint(3, 40)))  # fmt: skip
            if active:
                for feature in features[: 1 + min(4, active // 2)]:
                    day_features.append(CustomerDayFeature(customer=customer, day=day, event_type=feature,
                                                           events=rng.randint(1, 20)))  # fmt: skip
        for i, score in enumerate(nps):
            SurveyResponseFactory(
                customer=customer, contact=contacts[i % len(contacts)], survey_type="nps", score=score,
                comment=COMMENTS.get(score, ""),
                responded_at=datetime.datetime.combine(today - datetime.timedelta(days=10 + 37 * i),
                                                       datetime.time(10, 30), tzinfo=datetime.UTC),
            )  # fmt: skip
        for back in range(1, 12):
            SurveyResponseFactory(
                customer=customer, contact=contacts[back % len(contacts)], survey_type=("csat", "ces")[back % 2],
                score=rng.randint(3, 7) if back % 2 else rng.randint(3, 5),
                responded_at=datetime.datetime.combine(_month_start(today, back) + datetime.timedelta(days=n),
                                                       datetime.time(9), tzinfo=datetime.UTC),
            )  # fmt: skip
        for t in range(open_tickets + 2):
            opened = datetime.datetime.combine(today - datetime.timedelta(days=4 + 9 * t), datetime.time(8),
                                               tzinfo=datetime.UTC)  # fmt: skip
            TicketFactory(
                customer=customer, contact=contacts[0], opened_at=opened,
                subject=["Login fails with SSO", "Export to Excel times out", "Invoice address wrong",
                         "API rate limit reached", "Dashboard shows no data"][t % 5],
                resolved_at=None if t < open_tickets else opened + datetime.timedelta(hours=5),
                contacts_count=None if t < open_tickets else 1 + (t % 2),
            )  # fmt: skip
    UserDayActivity.objects.bulk_create(activity)
    CustomerDayFeature.objects.bulk_create(day_features)
    rebuild_months()  # the day rows were written directly: sum them into the monthly rollups as a refresh would
    for month_back in range(1, 13):
        CostEntry.objects.create(month=_month_start(today, month_back), category="cs_payroll", amount=Decimal(9000),
                                 original_amount=Decimal(9000), currency="EUR")  # fmt: skip
    by_name = {c.name: c for c in customers}
    TaskFactory(customer=by_name["Alpenblick Hotels AG"], assignee=carla, title="Plan a training for new staff",
                due_on=today - datetime.timedelta(days=3), created_at=datetime.datetime.now(datetime.UTC))  # fmt: skip
    TaskFactory(customer=by_name["Helios Pharma AG"], assignee=carla, title="Executive business review",
                due_on=today + datetime.timedelta(days=6), created_at=datetime.datetime.now(datetime.UTC))  # fmt: skip
    TaskFactory(customer=by_name["Fjord Analytics AS"], assignee=carla, title="Check the Excel export fix",
                due_on=today, created_at=datetime.datetime.now(datetime.UTC))  # fmt: skip
    NoteFactory(customer=by_name["Alpenblick Hotels AG"], author=carla,
                body="Spoke to the GM: three new hotels opened, staff not trained yet.",
                created_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=8))  # fmt: skip
    return {"carla": carla, "david": david, "mona": mona, "customers": by_name}
