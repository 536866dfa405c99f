"""Create the demo logins (an admin, a manager, two CSMs) and print them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from accounts.models import Customer
from accounts.roles import ADMIN, CSM, MANAGER

DEMO_USERS = [
    ("admin", ADMIN, "demo-admin-pass"),
    ("mona", MANAGER, "demo-manager-pass"),
    ("carla", CSM, "demo-csm-pass"),
    ("david", CSM, "demo-csm-pass"),
]


class Command(BaseCommand):
    help = "Create or reset the demo logins and give CSMs without customers a share of the unowned ones."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, role, password in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            user.is_staff = role in (ADMIN, MANAGER)
            user.is_superuser = role == ADMIN
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=role))
        csms = list(User.objects.filter(username__in=["carla", "david"]).order_by("username"))
        unowned = list(Customer.objects.filter(owner__isnull=True).order_by("pk").values_list("pk", flat=True))
        for i, csm in enumerate(csms):
            Customer.objects.filter(pk__in=unowned[i :: len(csms)]).update(owner=csm)
        self.stdout.write("Demo logins (user / password):")
        for username, role, password in DEMO_USERS:
            self.stdout.write(f"  {role:<8} {username:<6} / {password}")
