"""The alerts inbox: open alerts of the user's customers with reason, age and value at risk; acknowledge,
snooze until a day, resolve (completing the alert's task), each in place with HTMX.

State changes are alerts.inbox's; this module parses input and renders. After a change the row is
re-rendered (or removed) and `inbox-changed` is sent so the navigation's count refreshes itself.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts import policy
from alerts import inbox
from alerts.models import Alert, AlertRule
from web import selectors
from web.forms import ResolveForm, SnoozeForm
from web.pages import template_for


def _alert(request, pk) -> Alert:
    """The alert the user acts on: 404 if its customer is not theirs to see, 403 if they may only read it."""
    try:
        alert = inbox.alert_for_user(request.user, pk)
    except Alert.DoesNotExist:
        raise Http404(_("No such alert.")) from None
    if not policy.may_change_customer(request.user, alert.customer):
        raise PermissionDenied(_("You may read this alert but not act on it."))
    return alert


@login_required
@require_GET
def inbox_page(request):
    day = selectors.today()
    show = request.GET.get("show", "open")
    show = show if show in inbox.SHOWS else "open"
    kind = request.GET.get("kind", "")
    kind = kind if kind in AlertRule.Kind.values else ""
    rows = inbox.inbox_rows(request.user, day, show, kind)
    context = {
        "rows": rows, "show": show, "kind": kind, "kinds": AlertRule.Kind.choices, "today": day,
        "snooze_form": SnoozeForm(today=day), "resolve_form": ResolveForm(), "count": inbox.inbox_count(request.user, day),
    }  # fmt: skip
    return render(request, template_for(request, "web/inbox.html", "inbox-list"), context)


@login_required
@require_GET
def inbox_badge(request):
    return render(request, "web/inbox.html#inbox-badge", {"inbox_count": inbox.inbox_count(request.user, selectors.today())})


def _done(request, alert, message, *, keep_row: bool, error: bool = False):
    """Answer an inbox action: the row again (or nothing, once it left the list) for HTMX, else back to the inbox."""
    if not request.htmx:
        (messages.error if error else messages.success)(request, message)
        return redirect(reverse("web:inbox"))
    day = selectors.today()
    if keep_row:
        row = next((r for r in inbox.inbox_rows(request.user, day, "all") if r.alert.pk == alert.pk), None)
        context = {"row": row, "today": day, "snooze_form": SnoozeForm(today=day), "resolve_form": ResolveForm(),
                   "status": message, "error": error}  # fmt: skip
        response = render(request, "web/inbox.html#inbox-row", context)
    else:
        response = HttpResponse(f'<tr class="inbox-gone"><td colspan="6" role="status">{escape(message)}</td></tr>')
    return trigger_client_event(response, "inbox-changed")


@login_required
@require_POST
def alert_acknowledge(request, pk):
    alert = _alert(request, pk)
    try:
        inbox.alert_acknowledge(alert=alert, user=request.user)
    except inbox.InboxError:
        raise Http404(_("This alert is closed.")) from None
    return _done(request, alert, _("Acknowledged: %(customer)s.") % {"customer": alert.customer.name}, keep_row=True)


@login_required
@require_POST
def alert_snooze(request, pk):
    alert = _alert(request, pk)
    day = selectors.today()
    form = SnoozeForm(request.POST, today=day)
    if not form.is_valid():
        return _done(request, alert, " ".join(form.errors.get("until", [])), keep_row=True, error=True)
    try:
        inbox.alert_snooze(alert=alert, until=form.cleaned_data["until"], today=day)
    except inbox.InboxError:
        raise Http404(_("This alert is closed.")) from None
    message = _("Snoozed until %(day)s: %(customer)s.") % {"day": form.cleaned_data["until"].isoformat(), "customer": alert.customer.name}
    return _done(request, alert, message, keep_row=False)


@login_required
@require_POST
def alert_resolve(request, pk):
    alert = _alert(request, pk)
    form = ResolveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    inbox.alert_resolve(alert=alert, user=request.user, note=note)
    return _done(request, alert, _("Resolved, and its task is done: %(customer)s.") % {"customer": alert.customer.name}, keep_row=False)
