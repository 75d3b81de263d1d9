"""viewflow's timer dispatcher (cron runs it every minute), then the reminders before deadlines
and the escalations of overdue tasks (services.notifications.deadlines_sweep), and enqueues
again a batch of documents nobody works on any more (documents.batch). This command
takes the place of viewflow's own: `workflows` comes before `viewflow` in INSTALLED_APPS."""

from viewflow.management.commands.workflow_timers import Command as TimersCommand

from documents.batch import issue_batches_recover
from workflows.services.notifications import deadlines_sweep


class Command(TimersCommand):
    help = "Fire due workflow timers; send reminders before deadlines and escalate overdue tasks"

    def handle(self, **options):
        super().handle(**options)
        sent = deadlines_sweep()
        self.stdout.write(
            f"{sent['reminder']} reminder(s) sent, {sent['overdue']} overdue escalation(s) sent"
        )
        if recovered := issue_batches_recover():
            self.stdout.write(f"{recovered} abandoned document batch(es) enqueued again")
