"""`manage.py issue_batch <call pk> --user <username>`: issue a call's decision and every
applicant's notice or certificate here (not as a background job), with a progress bar; the
PDFs of a call decided at once (documents.batch.issue_batch_at_once) are rendered here too."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from documents.batch import latest_issue_batch, progress_observed
from documents.models import Document
from documents.services import documents_render_pending
from workflows.models import Call
from workflows.stages.decision.services import decision_issue


class Command(BaseCommand):
    help = "Issue a call's decision and one notice or certificate per applicant."

    def add_arguments(self, parser):
        parser.add_argument("call", type=int, help="the call's id")
        parser.add_argument("--user", required=True, help="username of the issuing officer")

    def handle(self, *args, call, user, **options):
        try:
            call = Call.objects.get(pk=call)
            officer = get_user_model().objects.get(username=user)
        except (Call.DoesNotExist, get_user_model().DoesNotExist) as error:
            raise CommandError(str(error)) from error
        with tqdm(unit="份", file=self.stderr._out) as bar:

            def progress(event):
                bar.total = event.total
                bar.n = event.done + event.failed
                bar.set_postfix(failed=event.failed, refresh=False)
                bar.refresh()

            try:
                with progress_observed(progress):
                    decision = decision_issue(user=officer, call=call)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        pending = Document.objects.filter(call=call, rendered_at__isnull=True)
        unrendered = documents_render_pending(pending.values_list("pk", flat=True))
        batch = latest_issue_batch(call)
        self.stdout.write(
            f"{decision.title} {decision.number}: {batch.done}/{batch.total} issued, "
            f"{batch.failed} failed"
        )
        for error in batch.errors:
            self.stdout.write(f"  {error['key']}: {error['error']}")
        for document_id, error in unrendered.items():
            self.stdout.write(f"  PDF of document {document_id} not rendered: {error}")
