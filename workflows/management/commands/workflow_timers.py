"""viewflow's timer dispatcher (cron runs it every minute), then the reminders before deadlines
and the escalations of overdue tasks (services.timers), and enqueues again a batch of documents
nobody works on any more (documents.batch) and the rendering of a document whose PDF is still
pending minutes after it was issued (documents.services). This command takes the place of
viewflow's own: `workflows` comes before `viewflow` in INSTALLED_APPS.

Safe to run from cron on every machine at once: one run at a time holds the database lock
(`services.timers.single_run`); a run that finds it held says so and exits successfully."""

from django.core.management.base import BaseCommand

from documents.batch import issue_batches_recover
from documents.services import documents_render_recover
from workflows.services.timers import TIMERS_COMMAND, single_run, timers_run


class Command(BaseCommand):
    help = "Fire due workflow timers; send reminders before deadlines and escalate overdue tasks"

    def handle(self, **options):
        with single_run(TIMERS_COMMAND) as renew:
            if renew is None:
                self.stdout.write("Another workflow_timers is running; nothing done this time")
                return
            counts = timers_run(renew=renew)
            recovered = issue_batches_recover()
            rendering = documents_render_recover()
        self.stdout.write(
            f"{counts['timers']} timer(s) fired, {counts['started']} process(es) started, "
            f"{counts['conditions']} condition(s) fired\n"
            f"{counts['reminders']} reminder(s) sent, "
            f"{counts['overdue']} overdue escalation(s) sent"
        )
        if recovered:
            self.stdout.write(f"{recovered} abandoned document batch(es) enqueued again")
        if rendering:
            self.stdout.write(f"{rendering} pending document PDF(s) enqueued again")
