"""The audit-history admin (django-simple-history) under the site's CSP.

simple-history's history list has one inline style attribute (`style="border-top: 0"`);
the history view allows exactly that attribute by its hash instead of 'unsafe-inline'.
Reverting from history is off (SIMPLE_HISTORY_REVERT_DISABLED): the trail is read-only.
"""

from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

# sha256 of "border-top: 0", the inline style of simple_history/object_history_list.html
HISTORY_STYLE_HASH = "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"


class AuditHistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose history page passes the CSP."""

    def history_view(self, request, object_id, extra_context=None):
        try:
            self.model._meta.pk.to_python(object_id)
        except ValidationError:  # /admin/.../abc/history/ raised a ValueError (500) in simple-history
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        response = super().history_view(request, object_id, extra_context)
        response._csp_update = {"style-src": ["'unsafe-hashes'", HISTORY_STYLE_HASH]}  # read by django-csp
        return response
