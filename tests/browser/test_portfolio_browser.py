"""The portfolio sorted by open tasks in a real browser: the sort read from the kept figures, page 2
reached by its Next link (a cursor), ties in name order, the totals of the whole portfolio."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_page_two_by_open_tasks_continues_the_order_of_page_one(page, demo, shot, login):
    from accounts.models import Customer
    from tests.factories import CustomerFactory, SubscriptionFactory, TaskFactory

    carla = Customer.objects.filter(name="Nordwind Logistik GmbH").get().owner
    for i in range(40):  # enough customers of hers for two pages, 0–3 open tasks each
        customer = CustomerFactory(owner=carla, name=f"Kunde {i:02}", segment="SMB")
        SubscriptionFactory(customer=customer, mrr=100 + i)
        for _ in range(i % 4):
            TaskFactory(customer=customer, assignee=carla, title=f"Call Kunde {i:02}")
    login(page, "carla")
    page.get_by_role("link", name="Open tasks").click()
    expect(page).to_have_url(re.compile(r"sort=-open_tasks"))
    rows = page.locator("#portfolio-table tbody tr")
    expect(rows).to_have_count(25)
    first = [_tasks_and_name(text) for text in rows.all_inner_texts()]
    page.locator("a[rel=next]").first.click()
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator("#portfolio-table")).to_contain_text("page 2 of 2")
    second = [_tasks_and_name(text) for text in rows.all_inner_texts()]
    keys = [(-tasks, name.lower()) for tasks, name in first + second]
    assert keys == sorted(keys)
    assert len(first) + len(second) == len({name for _t, name in first + second}) == 47  # her 7 and the 40
    shot(page, "portfolio-open-tasks-page-2")


def _tasks_and_name(row_text: str) -> tuple[int, str]:
    cells = row_text.split("\t")
    return int(cells[-1].strip()), cells[0].split("\n")[0].strip()
