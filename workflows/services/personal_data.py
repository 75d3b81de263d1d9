"""Personal data in writes: re-encrypting stored data with the current key (key rotation), and
refusing a reason the public will read when it names a person the system knows."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Objection
from ..selectors import personal_names_in


def public_reason_check(reason: str, *, field: str = "reason") -> str:
    """`reason`, stripped, when it names nobody the system knows (an account holder, a contact,
    an objector, an expert: `selectors.personal_names_in`); a ValidationError naming what was
    found otherwise. Such reasons are shown on public pages (verification, notices), where PIPL
    keeps personal names off."""
    reason = reason.strip()
    names = personal_names_in(reason)
    if names:
        raise ValidationError(
            {
                field: _(
                    "理由将在公开页面显示，不能写入个人姓名（发现：%(names)s）。"
                    "请改用“联系人”“异议人”等称谓。"
                )
                % {"names": "、".join(names)}
            },
            code="personal_name",
        )
    return reason


@transaction.atomic
def personal_data_rotate() -> int:
    """Encrypt every objector's ID number again with the first key of PERSONAL_DATA_KEYS; the
    others may then be dropped. Returns how many values were re-encrypted."""
    count = 0
    rows = Objection.objects.exclude(id_number="").select_for_update()
    # Read back in clear (any listed key decrypts), written again (the first key encrypts).
    for pk, value in rows.values_list("pk", "id_number").iterator(chunk_size=500):
        Objection.objects.filter(pk=pk).update(id_number=value)
        count += 1
    return count
