"""Each kind of spec/import.md: a good file stores the right values, each rule words its error."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Contact, CostEntry, Customer, Lead, Subscription, Ticket, UsageEvent
from surveys.models import SurveyResponse
from tests.import_support import at, contact, customer, messages, run

pytestmark = pytest.mark.django_db


# --- customers ---------------------------------------------------------------------------


def test_customers_are_created_with_their_fields(tmp_path, csm):
    result = run(
        "customers",
        tmp_path,
        """
        external_id,name,segment,country,csm,created_at
        A,Acme,SMB,de,carla,2023-05-02
        B,Beta,Enterprise,,carla@example.com,
        """,
    )
    assert (result.created, result.updated, result.errors, result.committed) == (2, 0, [], True)
    acme = Customer.objects.get(external_id="A")
    assert (acme.name, acme.segment, acme.country, acme.owner, acme.created_on) == (
        "Acme", "SMB", "DE", csm, datetime.date(2023, 5, 2)
    )
    assert Customer.objects.get(external_id="B").owner == csm
    assert result.touched_customer_ids == set(Customer.objects.values_list("pk", flat=True))


def test_customer_rules(tmp_path):
    result = run(
        "customers",
        tmp_path,
        """
        external_id,name,country,csm,created_at
        A,,DEU,no body!,1.2.2023
        """,
    )
    assert messages(result) == [
        '2/name: is empty; a value is required',
        '2/country: "DEU" is not a two-letter country code (e.g. DE, US)',
        '2/csm: "no body!" is not a username or email of a user, and cannot be made one',
        '2/created_at: "1.2.2023" is not a date (use YYYY-MM-DD, e.g. 2024-03-01)',
    ]
    assert not Customer.objects.exists()


def test_an_unknown_csm_becomes_a_csm_login_without_password(tmp_path):
    result = run("customers", tmp_path, "external_id,name,csm\nA,Acme,nina@example.com\nB,Beta,nina@example.com\n")
    assert result.error_count == 0
    nina = get_user_model().objects.get(username="nina@example.com")
    assert nina.email == "nina@example.com" and not nina.has_usable_password()
    assert list(nina.groups.values_list("name", flat=True)) == ["csm"]
    assert set(Customer.objects.values_list("owner", flat=True)) == {nina.pk}


def test_a_dry_run_creates_no_csm_login(tmp_path):
    run("customers", tmp_path, "external_id,name,csm\nA,Acme,nina\n", dry_run=True)
    assert not get_user_model().objects.filter(username="nina").exists()


def test_customer_update_leaves_columns_absent_from_the_file_alone(tmp_path, csm):
    customer("A", segment="SMB", owner=csm)
    result = run("customers", tmp_path, "external_id,name\nA,Acme renamed\n")
    assert (result.created, result.updated) == (0, 1)
    acme = Customer.objects.get()
    assert (acme.name, acme.segment, acme.owner) == ("Acme renamed", "SMB", csm)


# --- contacts ----------------------------------------------------------------------------


def test_contacts_are_created_per_customer(tmp_path):
    a, b = customer("A"), customer("B")
    result = run(
        "contacts",
        tmp_path,
        """
        customer_external_id,external_id,email,name,role,language
        A,u1,u1@a.example,Ann,Admin,DE
        B,u1,,,,en
        """,
    )
    assert (result.created, result.errors) == (2, [])
    ann = Contact.objects.get(customer=a)
    assert (ann.external_id, ann.email, ann.name, ann.role, ann.language) == ("u1", "u1@a.example", "Ann", "Admin", "de")
    assert Contact.objects.get(customer=b).language == "en"


def test_contact_rules(tmp_path):
    customer("A")
    result = run(
        "contacts",
        tmp_path,
        """
        customer_external_id,external_id,email,language
        X9,u1,,
        A,u2,not-an-email,fr
        """,
    )
    assert messages(result) == [
        '2/customer_external_id: no customer with id "X9" (import customers first)',
        '3/email: "not-an-email" is not an email address',
        '3/language: "fr" is not a survey language (use de or en)',
    ]


# --- subscriptions -----------------------------------------------------------------------


def test_subscriptions_store_mrr_defaults_and_trials(tmp_path):
    a = customer("A")
    result = run(
        "subscriptions",
        tmp_path,
        """
        customer_external_id,external_id,plan,started_at,ended_at,mrr,billing_period_months,quantity,is_trial
        A,S1,pro,2024-01-01,2024-03-01,100.50,12,5,
        A,,trial,2023-12-01,2024-01-01,0,,,
        A,,free,2023-11-01,,0,,,no
        """,
    )
    assert (result.created, result.errors) == (3, [])
    pro = Subscription.objects.get(external_id="S1")
    assert (pro.customer, pro.mrr, pro.original_mrr, pro.currency) == (a, Decimal("100.50"), Decimal("100.50"), "EUR")
    assert (pro.billing_period_months, pro.quantity, pro.is_trial, pro.ended_at) == (12, 5, False, datetime.date(2024, 3, 1))
    trial = Subscription.objects.get(plan="trial")
    assert (trial.is_trial, trial.billing_period_months, trial.quantity) == (True, 1, None)
    assert Subscription.objects.get(plan="free").is_trial is False
    assert result.touched_from == at("2023-11-01T00:00") and result.touched_to == at("2024-03-01T00:00")


def test_subscription_in_another_currency_is_converted(tmp_path, settings):
    settings.CSPLATFORM_EXCHANGE_RATES = {"USD": "0.9"}
    customer("A")
    result = run("subscriptions", tmp_path, "customer_external_id,plan,started_at,mrr,currency\nA,pro,2024-01-01,200,usd\n")
    assert result.errors == []
    sub = Subscription.objects.get()
    assert (sub.mrr, sub.original_mrr, sub.currency) == (Decimal("180"), Decimal("200"), "USD")


def test_subscription_rules(tmp_path, settings):
    settings.CSPLATFORM_EXCHANGE_RATES = {}
    customer("A")
    result = run(
        "subscriptions",
        tmp_path,
        """
        customer_external_id,plan,started_at,ended_at,mrr,currency,billing_period_months
        A,pro,2024-03-01,2024-03-01,10,,
        A,pro,2024-04-01,,"12,50",,
        A,pro,2024-05-01,,-5,,0
        A,pro,2024-06-01,,5,USD,
        A,,2024-07-01,,abc,,
        """,
    )
    assert messages(result) == [
        "2/ended_at: must be after started_at (2024-03-01)",
        '3/mrr: "12,50" is not a number (use a dot: 12.50)',
        "4/mrr: -5 is negative; MRR must be 0 or more",
        "4/billing_period_months: 0 is too small; it must be 1 or more",
        "5/currency: no exchange rate from USD to EUR (set CSPLATFORM_EXCHANGE_RATES, e.g. USD=0.92)",
        '6/mrr: "abc" is not a number',
        "6/plan: is empty; a value is required",
    ]


def test_subscription_natural_key_updates_on_reimport(tmp_path):
    customer("A")
    run("subscriptions", tmp_path, "customer_external_id,plan,started_at,mrr\nA,pro,2024-01-01,100\n")
    result = run("subscriptions", tmp_path, "customer_external_id,plan,started_at,mrr,ended_at\nA,pro,2024-01-01,120,2024-06-01\n")
    assert (result.created, result.updated) == (0, 1)
    sub = Subscription.objects.get()
    assert (sub.mrr, sub.ended_at) == (Decimal("120"), datetime.date(2024, 6, 1))


# --- usage events ------------------------------------------------------------------------


def test_usage_events_create_unknown_users_as_contacts(tmp_path):
    a = customer("A")
    known = contact(a, "u1")
    result = run(
        "usage_events",
        tmp_path,
        """
        customer_external_id,user_external_id,event_type,occurred_at,session_id
        A,u1,login,2024-02-01T09:00:00Z,s1
        A,u2,report,2024-02-01T10:00:00,
        A,u2,report,2024-02-01T12:00:00+02:00,
        """,
    )
    assert (result.created, result.updated, result.errors) == (2, 1, [])
    new = Contact.objects.get(external_id="u2")
    assert new.customer == a
    assert UsageEvent.objects.get(contact=known).session_id == "s1"
    event = UsageEvent.objects.get(contact=new)
    assert (event.customer_id, event.event_type, event.occurred_at) == (a.pk, "report", at("2024-02-01T10:00"))
    assert (result.touched_from, result.touched_to, result.touched_customer_ids) == (
        at("2024-02-01T09:00"), at("2024-02-01T10:00"), {a.pk}
    )


def test_usage_event_rules(tmp_path):
    customer("A")
    result = run(
        "usage_events",
        tmp_path,
        f"""
        customer_external_id,user_external_id,event_type,occurred_at
        X9,u1,login,2024-02-01T09:00:00Z
        A,,login,yesterday
        A,u1,{"x" * 101},2024-02-01T09:00:00Z
        """,
    )
    assert messages(result) == [
        '2/customer_external_id: no customer with id "X9" (import customers first)',
        "3/user_external_id: is empty; a value is required",
        '3/occurred_at: "yesterday" is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)',
        "4/event_type: is 101 characters long; at most 100 are allowed",
    ]
    assert not UsageEvent.objects.exists() and not Contact.objects.exists()


# --- tickets -----------------------------------------------------------------------------


def test_tickets_are_created(tmp_path):
    a = customer("A")
    result = run(
        "tickets",
        tmp_path,
        """
        external_id,customer_external_id,opened_at,first_response_at,resolved_at,contacts_count,channel,priority,subject
        T1,A,2024-02-01T09:00:00Z,2024-02-01T10:00:00Z,2024-02-02T09:00:00Z,2,email,high,Login broken
        T2,A,2024-02-03T09:00:00Z,,,,,,
        """,
    )
    assert (result.created, result.errors) == (2, [])
    t1 = Ticket.objects.get(external_id="T1")
    assert (t1.customer, t1.first_response_at, t1.resolved_at, t1.contacts_count) == (
        a, at("2024-02-01T10:00"), at("2024-02-02T09:00"), 2
    )
    assert (t1.channel, t1.priority, t1.subject) == ("email", "high", "Login broken")
    assert Ticket.objects.get(external_id="T2").is_open
    assert result.touched_to == at("2024-02-03T09:00")


def test_ticket_rules(tmp_path):
    customer("A")
    result = run(
        "tickets",
        tmp_path,
        """
        external_id,customer_external_id,opened_at,first_response_at,resolved_at,contacts_count
        T1,A,2024-02-05T09:00:00Z,2024-02-04T09:00:00Z,2024-02-01T09:00:00Z,0
        T2,A,2024-02-05T09:00:00Z,,,1.5
        """,
    )
    assert messages(result) == [
        "2/first_response_at: must not be before opened_at (2024-02-05T09:00:00Z)",
        "2/resolved_at: must not be before opened_at (2024-02-05T09:00:00Z)",
        "2/contacts_count: 0 is too small; it must be 1 or more",
        '3/contacts_count: "1.5" is not a whole number',
    ]


# --- survey responses --------------------------------------------------------------------


def test_survey_responses_are_created_with_optional_contact(tmp_path):
    a = customer("A")
    ann = contact(a, "u1")
    result = run(
        "survey_responses",
        tmp_path,
        """
        customer_external_id,contact_external_id,survey_type,score,comment,responded_at
        A,u1,NPS,9,"Great, thanks",2024-02-02T12:00:00Z
        A,,csat,1,,2024-02-03T12:00:00Z
        """,
    )
    assert (result.created, result.errors) == (2, [])
    nps = SurveyResponse.objects.get(survey_type="nps")
    assert (nps.customer, nps.contact, nps.score, nps.comment, nps.responded_at) == (
        a, ann, 9, "Great, thanks", at("2024-02-02T12:00")
    )
    assert SurveyResponse.objects.get(survey_type="csat").contact is None


def test_survey_response_rules(tmp_path):
    customer("A")
    result = run(
        "survey_responses",
        tmp_path,
        """
        customer_external_id,contact_external_id,survey_type,score,responded_at
        A,,nps,11,2024-02-02T12:00:00Z
        A,,csat,0,2024-02-02T12:00:00Z
        A,,ces,8,2024-02-02T12:00:00Z
        A,ghost,nps,5,2024-02-02T12:00:00Z
        A,,stars,5,2024-02-02T12:00:00Z
        """,
    )
    assert messages(result) == [
        "2/score: 11 is outside the NPS scale 0–10",
        "3/score: 0 is outside the CSAT scale 1–5",
        "4/score: 8 is outside the CES scale 1–7",
        '5/contact_external_id: no contact "ghost" at customer "A" (import contacts first)',
        '6/survey_type: "stars" is not a survey type (use nps, csat or ces)',
    ]


def test_survey_response_reimport_matches_on_customer_contact_type_and_time(tmp_path):
    customer("A")
    text = "customer_external_id,survey_type,score,responded_at,comment\nA,nps,{},2024-02-02T12:00:00Z,{}\n"
    run("survey_responses", tmp_path, text.format(7, "ok"))
    result = run("survey_responses", tmp_path, text.format(8, "better"))
    assert (result.created, result.updated) == (0, 1)
    assert SurveyResponse.objects.values_list("score", "comment").get() == (8, "better")


# --- costs -------------------------------------------------------------------------------


def test_costs_are_stored_per_month_and_category(tmp_path, settings):
    settings.CSPLATFORM_EXCHANGE_RATES = {"USD": "0.5"}
    result = run(
        "costs",
        tmp_path,
        """
        month,category,amount,currency
        2024-02,cs_payroll,3000,
        2024-03,Sales,100.25,USD
        """,
    )
    assert (result.created, result.errors) == (2, [])
    payroll = CostEntry.objects.get(category="cs_payroll")
    assert (payroll.month, payroll.amount, payroll.currency) == (datetime.date(2024, 2, 1), Decimal("3000"), "EUR")
    sales = CostEntry.objects.get(category="sales")
    assert (sales.amount, sales.original_amount, sales.currency) == (Decimal("50.125"), Decimal("100.25"), "USD")
    assert (result.touched_from, result.touched_to) == (at("2024-02-01T00:00"), at("2024-03-01T00:00"))


def test_cost_rules(tmp_path):
    result = run(
        "costs",
        tmp_path,
        """
        month,category,amount
        2024-2-01,cs_payroll,1
        2024-02,coffee,1
        2024-02,sales,"1,5"
        """,
    )
    assert messages(result) == [
        '2/month: "2024-2-01" is not a month (use YYYY-MM, e.g. 2024-03)',
        '3/category: "coffee" is not a cost category (use one of cs_payroll, support_payroll, programs, '
        "services_training, customer_marketing, acquisition_marketing, sales)",
        '4/amount: "1,5" is not a number (use a dot: 1.5)',
    ]


# --- leads -------------------------------------------------------------------------------


def test_leads_are_created_with_optional_customer(tmp_path):
    a = customer("A")
    result = run(
        "leads",
        tmp_path,
        """
        external_id,source,created_at,converted_at,customer_external_id
        L1,webinar,2024-02-03T10:00:00Z,2024-02-20T10:00:00Z,A
        L2,,2024-02-04T10:00:00Z,,
        """,
    )
    assert (result.created, result.errors) == (2, [])
    l1 = Lead.objects.get(external_id="L1")
    assert (l1.source, l1.created_at, l1.converted_at, l1.customer) == (
        "webinar", at("2024-02-03T10:00"), at("2024-02-20T10:00"), a
    )
    assert Lead.objects.get(external_id="L2").customer is None


def test_lead_rules(tmp_path):
    result = run(
        "leads",
        tmp_path,
        """
        external_id,created_at,converted_at,customer_external_id
        L1,2024-02-03T10:00:00Z,2024-02-01T10:00:00Z,
        L2,2024-02-03T10:00:00Z,,X9
        ,,,
        L3,,,
        """,
    )
    assert messages(result) == [
        "2/converted_at: must not be before created_at (2024-02-03T10:00:00Z)",
        '3/customer_external_id: no customer with id "X9" (import customers first)',
        "5/created_at: is empty; a value is required",
    ]
