"""The access policy (accounts.policy): who sees and changes which customers, rows and scopes."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import policy
from accounts.models import Ticket
from tests import factories as f
from tests.surveys_support import InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(csm):
    """Three customers: one the csm owns, one assigned to them, one of somebody else's."""
    owned = f.CustomerFactory(owner=csm)
    assigned = f.CustomerFactory()
    assigned.assigned_users.add(csm, f.UserFactory(role="csm"))
    other = f.CustomerFactory(owner=f.UserFactory(role="csm"))
    return owned, assigned, other


def test_admins_and_managers_see_every_customer(portfolio, admin_user, manager):
    assert set(policy.visible_customers(admin_user)) == set(portfolio)
    assert set(policy.visible_customers(manager)) == set(portfolio)


def test_csm_sees_owned_and_assigned_customers_once(portfolio, csm):
    owned, assigned, _ = portfolio
    assigned.owner = csm  # owned and assigned at once: still listed once
    assigned.save()
    assert sorted(policy.visible_customers(csm), key=lambda c: c.pk) == [owned, assigned]
    assert policy.visible_customers(csm).count() == 2


def test_outsider_and_users_without_a_role_see_no_customer(portfolio, outsider):
    assert not policy.visible_customers(outsider).exists()
    roleless = f.UserFactory()
    portfolio[0].assigned_users.add(roleless)  # even assigned: no role, no customers
    assert not policy.visible_customers(roleless).exists()
    assert not policy.visible_customers(AnonymousUser()).exists()


def test_only_admins_and_csms_change_customers_managers_read_only(portfolio, csm, manager, admin_user):
    owned, assigned, other = portfolio
    assert set(policy.changeable_customers(admin_user)) == set(portfolio)
    assert set(policy.changeable_customers(csm)) == {owned, assigned}
    assert not policy.changeable_customers(manager).exists()
    other.owner = manager  # a manager owning an account still changes nothing
    other.save()
    assert not policy.may_change_customer(manager, other)
    assert policy.may_change_customer(csm, assigned) and not policy.may_change_customer(csm, other.pk)
    assert policy.may_write(csm) and policy.may_write(admin_user) and not policy.may_write(manager)


def test_restrict_filters_rows_in_the_query(portfolio, csm, manager, outsider):
    owned, _assigned, other = portfolio
    mine, theirs = f.TicketFactory(customer=owned), f.TicketFactory(customer=other)
    assert list(policy.restrict(Ticket.objects.all(), csm)) == [mine]
    assert set(policy.restrict(Ticket.objects.all(), manager)) == {mine, theirs}
    assert not policy.restrict(Ticket.objects.all(), outsider).exists()
    assert "IN (SELECT" in str(policy.restrict(Ticket.objects.all(), csm).query).upper()


def test_row_kinds_costs_and_leads_are_company_data(csm, manager, admin_user):
    assert policy.row_kinds(csm) == {policy.CUSTOMER_ROWS}
    assert policy.row_kinds(manager) == policy.row_kinds(admin_user) == set(policy.ROW_KINDS)
    assert policy.row_kinds(AnonymousUser()) == set()
    assert not policy.may_see_company_data(csm) and policy.may_see_company_data(manager)


def test_scopes_a_user_may_ask_for(portfolio, csm, outsider, manager):
    owned, _assigned, other = portfolio
    assert policy.may_ask_scope(csm) and policy.may_ask_scope(outsider)  # company and segments: aggregates
    assert policy.may_ask_scope(csm, customer_id=owned.pk)
    assert not policy.may_ask_scope(csm, customer_id=other.pk)
    assert not policy.may_ask_scope(csm, customer_id=10**9)
    assert policy.may_ask_scope(csm, csm="carla") and not policy.may_ask_scope(outsider, csm="carla")
    assert policy.may_ask_scope(manager, csm="carla") and not policy.may_ask_scope(manager, csm="ghost")
    assert not policy.may_ask_scope(f.UserFactory())


def test_answers_given_through_a_link_are_read_only_for_every_role(portfolio, csm, admin_user):
    invitation = InvitationFactory(contact=f.ContactFactory(customer=portfolio[0]))
    response = f.SurveyResponseFactory(customer=portfolio[0], contact=invitation.contact, invitation=invitation)
    assert not policy.may_change_answer(admin_user, response)
    assert not policy.may_change_answer(csm, response)
    imported = f.SurveyResponseFactory(customer=portfolio[0])
    assert policy.may_change_answer(csm, imported) and policy.may_change_answer(admin_user, imported)
