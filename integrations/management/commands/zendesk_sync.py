"""manage.py zendesk_sync: apply the Zendesk tickets changed since the last run (incremental export)."""

from integrations import zendesk
from integrations.management.sync import SyncCommand


class Command(SyncCommand):
    help = "Apply Zendesk tickets changed since the last run (or since --since); safe to run again."
    since_help = "Start here instead of where the last run stopped (YYYY-MM-DD)."
    refused = zendesk.Refused

    def sync(self, start):
        return zendesk.sync(start=start)

    def summary(self, counts):
        return (
            f"{counts['applied']} tickets applied, {counts['skipped']} unchanged, "
            f"{counts['refused']} refused (see the Integrations page)"
        )
