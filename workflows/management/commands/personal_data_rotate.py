"""`manage.py personal_data_rotate`: encrypt every stored personal datum again with the first key
of PERSONAL_DATA_KEYS (workflows.personal_data). Rotation: put the new key first, keep the old
ones after it, run this, then drop the old keys."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from workflows.services.personal_data import personal_data_rotate


class Command(BaseCommand):
    help = "Re-encrypt stored personal data with the first key of PERSONAL_DATA_KEYS."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = personal_data_rotate()
        self.stdout.write(_("已用当前密钥重新加密%(count)d条个人信息。") % {"count": count})
