"""Rows every installation has: the three role groups and the default churn reasons.

The migrations create them once; `ensure_defaults` runs after every `migrate` and `flush`
(Django's post_migrate signal, as for permissions), so a flushed database, such as the one
a transactional test leaves behind, is usable again. It only adds what is missing: reasons
an admin renamed or switched off stay as they are.
"""

from django.apps import apps as global_apps

from accounts.roles import ROLES

DEFAULT_REASONS = [
    ("price", "Price or budget", "Preis oder Budget"),
    ("missing_features", "Missing features", "Fehlende Funktionen"),
    ("competitor", "Switched to a competitor", "Wechsel zur Konkurrenz"),
    ("low_adoption", "Low adoption", "Geringe Nutzung"),
    ("support", "Support experience", "Erfahrung mit dem Support"),
    ("business_closed", "Business closed or acquired", "Firma geschlossen oder übernommen"),
    ("downsizing", "Fewer seats or smaller plan", "Weniger Lizenzen oder kleinerer Tarif"),
    ("other", "Other", "Sonstiges"),
]


def ensure_defaults(using="default", apps=global_apps, **kwargs):
    """Create the role groups, and the default churn reasons when there are none at all."""
    try:
        Group = apps.get_model("auth", "Group")
        ChurnReason = apps.get_model("accounts", "ChurnReason")
    except LookupError:  # migrated back to before these tables existed
        return
    for name in ROLES:
        Group.objects.using(using).get_or_create(name=name)
    if not ChurnReason.objects.using(using).exists():
        ChurnReason.objects.using(using).bulk_create(
            ChurnReason(code=code, label=label, label_de=label_de, position=position)
            for position, (code, label, label_de) in enumerate(DEFAULT_REASONS)
        )
