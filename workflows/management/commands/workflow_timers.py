"""viewflow's timer dispatcher (cron runs it every minute), then the reminders before deadlines
and the escalations of overdue tasks (services.notifications.deadlines_sweep). This command
takes the place of viewflow's own: `workflows` comes before `viewflow` in INSTALLED_APPS."""

from viewflow.management.commands.workflow_timers import Command as TimersCommand

from workflows.services.notifications import deadlines_sweep


class Command(TimersCommand):
    help = "Fire due workflow timers; send reminders before deadlines and escalate overdue tasks"

    def handle(self, **options):
        super().handle(**options)
        sent = deadlines_sweep()
        self.stdout.write(
            f"{sent['reminder']} reminder(s) sent, {sent['overdue']} overdue escalation(s) sent"
        )
