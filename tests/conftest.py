"""Shared fixtures: the personas every screen and endpoint is tested with; the data migrations'
rows put back after a transactional test."""

import importlib

import pytest
from django.contrib.auth.models import Group
from pytest_django.plugin import blocking_manager_key

# Rows the data migrations create and tests rely on: the roles' groups, the default churn reasons.
SEEDS = (("accounts.migrations.0002_roles", "create_roles"), ("accounts.migrations.0005_churn_reasons", "add_default_reasons"))


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    asked = marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    return bool(asked) or bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends by emptying its test database, the data migrations' rows too. In one
    process pytest-django runs those tests last; `scripts/test` runs the suite in two processes a file
    at a time, so a file's transactional tests run among other files' tests: put the rows back."""
    result = yield
    if nextitem is not None and _transactional(item):  # after the last test the test database is gone
        from django.apps import apps

        with item.config.stash[blocking_manager_key].unblock():
            for module, function in SEEDS:
                getattr(importlib.import_module(module), function)(apps, None)
    return result


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
