"""The role groups and default churn reasons are there after migrate and after a flush."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.defaults import DEFAULT_REASONS
from accounts.models import ChurnReason
from accounts.roles import ROLES


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_its_roles_and_churn_reasons_back():
    call_command("flush", interactive=False, verbosity=0)
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(ROLES)
    assert list(ChurnReason.objects.values_list("code", flat=True)) == [code for code, _, _ in DEFAULT_REASONS]


@pytest.mark.django_db(transaction=True)
def test_reasons_an_admin_changed_stay_as_they_are():
    ChurnReason.objects.exclude(code="price").delete()
    ChurnReason.objects.filter(code="price").update(label="Too expensive", active=False)
    call_command("migrate", verbosity=0)  # post_migrate runs again
    assert list(ChurnReason.objects.values_list("code", "label", "active")) == [("price", "Too expensive", False)]
