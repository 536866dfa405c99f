"""Shared fixtures: the personas every screen and endpoint is tested with."""

import pytest
from django.contrib.auth.models import Group


def _user(django_user_model, username, role=None, **extra):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw-Secret-123", **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def admin_user(django_user_model):
    return _user(django_user_model, "ada", "admin", is_staff=True, is_superuser=True)


@pytest.fixture
def manager(django_user_model):
    return _user(django_user_model, "mona", "manager", is_staff=True)


@pytest.fixture
def csm(django_user_model):
    return _user(django_user_model, "carla", "csm")


@pytest.fixture
def outsider(django_user_model):
    """A CSM who owns none of the test customers."""
    return _user(django_user_model, "otto", "csm")
