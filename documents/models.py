"""Issued documents and their number sequences. An issued file is stored once, never replaced:
a correction is a new version (`replaces`), a withdrawn document stays on record, marked void.

A document issued one at a time is recorded first (number, verification code, what it says) and
its PDF rendered afterwards by a background job (documents.services.document_file_render): until
then it is pending, with no file (`rendered_at` is None)."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentImmutableError(Exception):
    """Someone tried to change or overwrite an issued document."""


# No 0/O, 1/I/L: a code read off paper is typed back without guessing.
VERIFICATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VERIFICATION_CODE_LENGTH = 10


def verification_code_new() -> str:
    """A random verification code (31^10 ≈ 8·10^14 codes), e.g. "7KQ3MXR2TD"."""
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH))


class Document(models.Model):
    class Kind(models.TextChoices):
        ACCEPTANCE_NOTICE = "acceptance_notice", _("受理通知书")
        REFUSAL_DECISION = "refusal_decision", _("不予受理决定书")
        FUNDING_DECISION = "funding_decision", _("资助决定")
        DECISION_NOTICE = "decision_notice", _("资助决定通知书")
        AWARD_LETTER = "award_letter", _("奖励通知书")
        RECOGNITION_DECISION = "recognition_decision", _("认定决定")
        COMMENDATION_DECISION = "commendation_decision", _("表彰决定")
        CERTIFICATE = "certificate", _("证书")
        ROUND_RESULT_DECISION = "round_result_decision", _("评审结果决定书")
        CORRECTION_NOTICE = "correction_notice", _("补正通知书")
        LAPSE_NOTICE = "lapse_notice", _("终止办理告知书")
        NOT_RECOMMENDED_NOTICE = "not_recommended_notice", _("不予推荐告知书")
        REJECTION_DECISION = "rejection_decision", _("审议不予通过决定书")
        WITHDRAWAL_DECISION = "withdrawal_decision", _("撤销列入名单决定书")
        NOT_AWARDED_DECISION = "not_awarded_decision", _("评审未通过决定书")

    kind = models.CharField(_("文书类型"), max_length=32, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    number = models.CharField(_("文号"), max_length=64, blank=True)
    application = models.ForeignKey(
        "workflows.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    call = models.ForeignKey("workflows.Call", on_delete=models.PROTECT, related_name="documents")
    institution = models.ForeignKey(
        "workflows.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("收文单位"),
    )
    # Empty, and the hash and size unknown, while the PDF is pending (`rendered_at` None).
    file = models.FileField(_("文件"), upload_to="documents/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    rendered_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    # When a job to render the pending PDF was last enqueued (workflow_timers enqueues again a
    # document pending for longer than DOCUMENT_RENDER_RETRY_SECONDS since then).
    render_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    issued_at = models.DateTimeField(_("印发时间"), default=timezone.now)
    issuer_name = models.CharField(_("印发机关"), max_length=200, blank=True)
    issuer_code = models.CharField(_("机关代字"), max_length=32, blank=True)
    # The template context the file was rendered from (documents.services encodes dates and
    # Decimals), so a reissue can render the same content under a new number.
    context = models.JSONField(default=dict, blank=True, editable=False)
    verification_code = models.CharField(
        _("验证码"),
        max_length=16,
        unique=True,
        default=verification_code_new,
        editable=False,
    )
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("替代的文书"),
    )
    reissue_reason = models.TextField(_("重新印发理由"), blank=True)
    superseded_at = models.DateTimeField(_("被替代时间"), null=True, blank=True)
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    void_reason = models.TextField(_("作废理由"), blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("作废人"),
    )

    class Meta:
        verbose_name = _("公文")
        verbose_name_plural = _("公文")
        ordering = ["-issued_at", "-pk"]
        indexes = [
            models.Index(fields=["-issued_at", "-id"], name="document_newest"),
            # The few documents whose PDF is pending (workflow_timers looks every minute).
            models.Index(
                fields=["render_requested_at"],
                condition=Q(rendered_at__isnull=True),
                name="document_render_pending",
            ),
        ]
        constraints = [
            # Issued once: a second request for the same document returns the current version.
            models.UniqueConstraint(
                fields=["kind", "application"],
                condition=Q(application__isnull=False, superseded_at__isnull=True),
                name="one_current_document_per_kind_and_application",
            ),
            models.UniqueConstraint(
                fields=["kind", "call"],
                condition=Q(application__isnull=True, superseded_at__isnull=True),
                name="one_current_batch_document_per_kind_and_call",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}".strip()

    def save(self, *args, **kwargs):
        # Only a save that writes the file fields can overwrite an issued file (a pending
        # document's file is stored by one conditional UPDATE, never by save()).
        update_fields = kwargs.get("update_fields")
        writes_file = update_fields is None or {"file", "sha256", "size"} & set(update_fields)
        if self.pk is not None and writes_file:
            stored = type(self).objects.filter(pk=self.pk).values("file", "sha256").first()
            if stored and (stored["file"] != self.file.name or stored["sha256"] != self.sha256):
                raise DocumentImmutableError(f"Document {self.pk} is issued; its file is final.")
        super().save(*args, **kwargs)

    @property
    def is_pending(self) -> bool:
        """Recorded, but its PDF is not rendered and stored yet."""
        return self.rendered_at is None

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def is_superseded(self) -> bool:
        return self.superseded_at is not None

    def replacement(self) -> "Document | None":
        """The version that replaced this one, if any."""
        return self.replaced_by.order_by("-issued_at", "-pk").first()


class DocumentSequence(models.Model):
    """Next number per issuer code and year (`<code>〔<year>〕<n>号`)."""

    issuer_code = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer_code", "year"], name="one_sequence_per_year")
        ]

    def __str__(self):
        return f"{self.issuer_code}〔{self.year}〕{self.last_number}号"


class DocumentReservation(models.Model):
    """A number and verification code taken for one document of a batch before it is rendered.

    A batch reserves every number it needs in one short transaction and commits, then stores the
    documents one by one; a document stored replaces its reservation in the same transaction. A
    document that fails, or a run that stops half-way, leaves its reservation: the rerun prints the
    same number and code, so numbers stay gapless and other issuers never wait for a whole batch.
    """

    kind = models.CharField(max_length=32, choices=Document.Kind.choices)
    call = models.ForeignKey("workflows.Call", on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        "workflows.Application", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issuer_code = models.CharField(max_length=32, blank=True)
    number = models.CharField(max_length=64, blank=True)
    verification_code = models.CharField(max_length=16, unique=True)
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "application"],
                condition=Q(application__isnull=False),
                name="one_reservation_per_kind_and_application",
            ),
            models.UniqueConstraint(
                fields=["kind", "call"],
                condition=Q(application__isnull=True),
                name="one_batch_reservation_per_kind_and_call",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}".strip()


class IssueBatch(models.Model):
    """One run of issuing a document to every applicant on a call's list (e.g. the decision
    notices): how far it got, and which documents failed and why. Its documents are the
    `items`, each issued by whichever worker process claims it (documents.batch)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("等待开始")
        RUNNING = "running", _("正在印发")
        FINISHED = "finished", _("已完成")
        FAILED = "failed", _("失败")

    call = models.ForeignKey(
        "workflows.Call", on_delete=models.CASCADE, related_name="issue_batches"
    )
    kind = models.CharField(_("文书类型"), max_length=32, choices=Document.Kind.choices)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    # Last progress recorded.
    updated_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Dotted path of the function that records what each stored document means (the caller's:
    # documents/ imports nothing of the engine), called in the document's own transaction.
    handler = models.CharField(max_length=200, blank=True)
    # While the batch is prepared, and for a while after its runners are enqueued, the batch
    # itself holds a lease: nobody starts another one for the call (documents.batch).
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("批量印发")
        verbose_name_plural = _("批量印发")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.done}/{self.total}"


class BatchItem(models.Model):
    """One document of a batch, claimed by one worker at a time under a lease that the worker
    renews while it works; a lease that expired (its worker died) may be claimed by another."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待印发")
        DONE = "done", _("已印发")
        FAILED = "failed", _("失败")

    batch = models.ForeignKey(IssueBatch, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    # The document the others print the number of (the batch's decision): issued first.
    is_lead = models.BooleanField(default=False)
    kind = models.CharField(max_length=32, choices=Document.Kind.choices)
    application = models.ForeignKey(
        "workflows.Application", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    label = models.CharField(max_length=200, blank=True)
    # What documents.services.document_prepare is given (title, institution, issuer code,
    # numbered, the encoded context), and what the batch's handler is told (`data`).
    fields = models.JSONField(default=dict)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    document = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    render_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "-is_lead", "position"]
        indexes = [
            models.Index(fields=["batch", "status", "lease_expires_at"], name="batch_item_claim")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label} ({self.status})"
