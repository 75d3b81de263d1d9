"""Demo logins (one per role), a demo institution and an open call per program, for `make run`."""

from django.core.management.base import BaseCommand

from workflows import demo
from workflows.models import Call
from workflows.programs import programs_loaded


class Command(BaseCommand):
    help = "Create one demo user per role, a demo institution and an open call per program."

    def handle(self, *args, **options):
        cast = demo.cast_make()
        demo.user_make(*demo.DEMO_SECURITY_ADMIN)
        demo.institution_make(user=cast.applicant, serial=1, name="贵州省技术转移演示中心")
        for slug in programs_loaded():
            if not Call.objects.filter(program_slug=slug).exists():
                demo.call_make(slug=slug)
        self.stdout.write(
            self.style.SUCCESS(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        )
        for role, (username, label) in demo.DEMO_USERS.items():
            self.stdout.write(f"  {username:<10} {label}  [{role}]")
        self.stdout.write(f"  expert1 … expert{demo.DEMO_EXPERTS}  评审专家（演示）  [expert]")
        username, role, label = demo.DEMO_SECURITY_ADMIN
        self.stdout.write(f"  {username:<10} {label}  [{role}]")
        self.stdout.write("Open http://127.0.0.1:8000/ and log in.")
