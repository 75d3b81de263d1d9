"""`manage.py audit_verify`: walk the audit trail's hash chain (workflows.audit_chain) in order,
recomputing each record's content hash and its link to the one before. Prints OK with the number
of records and the chain's head hash, or the FIRST broken record and exits 1.

Records removed from the END leave an intact, shorter chain: note the head hash elsewhere (a
printed log, a letter to the archive) and give it to a later run as `--head HASH`; the run then
fails unless that record is still in the chain (and says how many records follow it)."""

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from workflows.audit_chain import ChainWalk
from workflows.models import AuditRecord

PROBLEMS = {
    "content": gettext_noop("内容被改动：记录的内容与其内容哈希不符"),
    "missing": gettext_noop("链接断开：它之前的记录缺失（已被删除）"),
    "link": gettext_noop("链接断开：它所指向的前一条记录不是它之前的记录"),
    "hash": gettext_noop("链接哈希被改动：记录的链接哈希与其内容和前一条记录不符"),
}


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; report the first altered or missing record."

    def add_arguments(self, parser):
        parser.add_argument(
            "--head",
            default="",
            help="A head hash printed by an earlier run: fail unless it is still in the chain.",
        )

    def handle(self, *args, **options):
        walk = ChainWalk(AuditRecord.objects.all())
        broken = next(iter(walk), None)
        if broken is None:
            self.stdout.write(
                _("审计链完整：共%(count)d条记录，链头哈希 %(head)s")
                % {"count": walk.count, "head": walk.head}
            )
            if options["head"]:
                self._noted_head(options["head"].strip().lower())
            return
        self.stderr.write(
            _("审计链断裂：第一处在记录 #%(pk)d（%(time)s，%(action)s）：%(problem)s")
            % {
                "pk": broken.pk,
                "time": f"{timezone.localtime(broken.created_at):%Y-%m-%d %H:%M:%S}",
                "action": broken.action,
                "problem": _(PROBLEMS[broken.problem]),
            }
        )
        sys.exit(1)

    def _noted_head(self, noted: str) -> None:
        """The chain verified; the head noted earlier must still be one of its records."""
        record = AuditRecord.objects.filter(hash=noted).values("pk").first()
        if record is None:
            self.stderr.write(
                _("审计链尾部被截断：先前记下的链头哈希 %(head)s 已不在链中（其后的记录被删除）。")
                % {"head": noted}
            )
            sys.exit(1)
        following = AuditRecord.objects.filter(pk__gt=record["pk"]).count()
        self.stdout.write(
            _("先前记下的链头仍在链中（记录 #%(pk)d），其后新增%(n)d条记录。")
            % {"pk": record["pk"], "n": following}
        )
