"""Writes on stored personal data: re-encrypting it with the current key (key rotation)."""

from django.db import transaction

from ..models import Objection


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
