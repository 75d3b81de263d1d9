"""Domain records: institutions, calls, applications and everything that happens to them.

Workflow position lives in viewflow's Process/Task tables; what a user sees, sums or filters lives
here in real columns. Allowed status changes are data (`Application.TRANSITIONS`) enforced in one
place (`services.application_move`).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from . import audit_chain
from .personal_data import EncryptedTextField
from .wording import wording_body, wording_phrase, wording_title


class AppendOnlyError(Exception):
    """An audit record was about to be changed or deleted."""


class ProgramVersion(models.Model):
    """One content version of a program file; applications keep the version they started under."""

    slug = models.SlugField(_("项目代号"), max_length=64)
    sha256 = models.CharField(_("内容哈希"), max_length=64)
    content = models.JSONField(_("内容"))
    source_name = models.CharField(_("文件名"), max_length=200)
    loaded_at = models.DateTimeField(_("载入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("项目版本")
        verbose_name_plural = _("项目版本")
        constraints = [
            models.UniqueConstraint(fields=["slug", "sha256"], name="program_version_unique")
        ]

    def __str__(self):
        return f"{self.slug}@{self.sha256[:12]}"

    @property
    def title(self):
        return self.content["title"]["zh"]

    def tier(self, key: str) -> dict:
        tier = self.tier_or_none(key)
        if tier is None:
            raise KeyError(f"{self.slug} has no tier {key!r}")
        return tier

    def tier_or_none(self, key: str) -> dict | None:
        """The tier of `key` in the file (None without a key, or when the file lists no such
        tier)."""
        tiers = self.content.get("tiers") or []
        return next((tier for tier in tiers if key and tier["key"] == key), None)

    def stage(self, stage_type: str) -> dict | None:
        from .programs import program_stage

        return program_stage(self.content, stage_type)


class Institution(models.Model):
    """An applicant organisation, identified by its unified social credit code (USCC)."""

    name = models.CharField(_("机构名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    region_code = models.CharField(_("所在地区代码"), max_length=6)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="institutions", verbose_name=_("成员")
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("申报单位")
        verbose_name_plural = _("申报单位")
        permissions = [("act_for_institution", _("代表单位申报"))]
        indexes = [
            # A city's institutions: `region_code LIKE '5201%'` (pattern ops on PostgreSQL).
            models.Index(
                fields=["region_code"],
                name="institution_region_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["name"], name="institution_name"),
        ]

    def __str__(self):
        return self.name


class InstitutionUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Institution, on_delete=models.CASCADE)


class InstitutionGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Institution, on_delete=models.CASCADE)


class Call(models.Model):
    """申报批次: one round of a program with its deadline, designation window and budget."""

    program_slug = models.SlugField(_("项目"), max_length=64)
    title = models.CharField(_("批次名称"), max_length=200)
    opens_at = models.DateTimeField(_("开始申报时间"))
    closes_at = models.DateTimeField(_("申报截止时间"))
    designation_from = models.DateField(_("获批日期起"))
    designation_to = models.DateField(_("获批日期止"))
    budget_total = models.DecimalField(
        _("预算指标"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    budget_paid = models.DecimalField(
        _("已拨付"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("申报批次")
        verbose_name_plural = _("申报批次")
        ordering = ["-opens_at"]
        constraints = [
            # The balance can never go negative, whatever code path writes the row.
            models.CheckConstraint(
                condition=Q(budget_paid__gte=0) & Q(budget_paid__lte=F("budget_total")),
                name="call_budget_never_overdrawn",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="call_closes_after_opening"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def budget_left(self) -> Decimal:
        return self.budget_total - self.budget_paid

    def is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.opens_at <= at < self.closes_at


def _onward_moves(passed, outcomes) -> dict:
    return {status: set(outcomes) for status in passed}


class Application(models.Model):
    """An institution's application in a call, from draft to payment."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        RECOMMENDED = "recommended", _("已推荐")
        NOT_RECOMMENDED = "not_recommended", _("未获推荐")
        CORRECTION = "correction", _("退回补正")
        LAPSED = "lapsed", _("逾期未补正")
        ACCEPTED = "accepted", _("已受理")
        REFUSED = "refused", pgettext_lazy("status", "不予受理")
        SCORED = "scored", _("专家评审完成")
        NOT_ADVANCED = "not_advanced", _("未进入下一环节")
        APPROVED = "approved", _("审议通过")
        REJECTED = "rejected", _("审议未通过")
        IN_NOTICE = "in_notice", _("公示中")
        WITHDRAWN = "withdrawn", _("异议成立，撤销")
        NOTICE_CLOSED = "notice_closed", _("公示期满")
        DECIDED = "decided", _("已印发决定")
        LETTER_ISSUED = "letter_issued", _("已发奖励通知书")
        PAID = "paid", _("已拨付")

    # A stage that ends well leaves one of these; the next stage of the program (its order comes
    # from the program file, and viewflow enforces it) moves on from there.
    PASSED = (
        Status.SUBMITTED,
        Status.RECOMMENDED,
        Status.ACCEPTED,
        Status.SCORED,
        Status.APPROVED,
        Status.NOTICE_CLOSED,
    )
    STAGE_OUTCOMES = (
        Status.RECOMMENDED,
        Status.NOT_RECOMMENDED,
        Status.CORRECTION,
        Status.ACCEPTED,
        Status.REFUSED,
        Status.SCORED,
        Status.NOT_ADVANCED,
        Status.APPROVED,
        Status.REJECTED,
        Status.IN_NOTICE,
        Status.DECIDED,
    )
    # Allowed status changes, as data; services.application_move is the only writer. Statuses
    # missing here are final. A stage may follow any passed stage, in the order the program file
    # gives, and a stage type may come again (a second expert round: scored -> scored).
    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED},
        **_onward_moves(PASSED, STAGE_OUTCOMES),
        Status.CORRECTION: {Status.SUBMITTED, Status.LAPSED},
        Status.IN_NOTICE: {Status.WITHDRAWN, Status.NOTICE_CLOSED},
        # An objection lodged in time may be upheld after the period has closed.
        Status.NOTICE_CLOSED: {*STAGE_OUTCOMES, Status.WITHDRAWN},
        Status.DECIDED: {Status.LETTER_ISSUED},
        Status.LETTER_ISSUED: {Status.PAID},
    }

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications")
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="applications"
    )
    program_version = models.ForeignKey(ProgramVersion, on_delete=models.PROTECT)
    process = models.OneToOneField(
        "viewflow.Process",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application",
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # Which columns a program uses comes from its file; the rest stay blank.
    tier = models.CharField(_("级别"), max_length=32, blank=True)
    approval_number = models.CharField(_("批准文号"), max_length=100, blank=True)
    approval_date = models.DateField(_("获批日期"), null=True, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=40, blank=True)
    account_name = models.CharField(_("账户名称"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    patent_number = models.CharField(_("专利号"), max_length=32, blank=True, db_index=True)
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("推荐人"),
    )
    recommended_at = models.DateTimeField(_("推荐时间"), null=True, blank=True)
    recommendation_reason = models.TextField(_("推荐意见"), blank=True)
    panel_score = models.DecimalField(
        _("专家评审得分"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    extra = models.JSONField(_("其他申报信息"), default=dict, blank=True)
    correction_reason = models.TextField(_("补正要求"), blank=True)
    correction_deadline = models.DateTimeField(_("补正期限"), null=True, blank=True)
    # How the deadline was computed (to recompute it when a year's holidays are entered), and
    # whether it reached a year whose holiday arrangement was not entered yet (暂定).
    correction_started_at = models.DateTimeField(_("退回补正时间"), null=True, blank=True)
    correction_days = models.PositiveIntegerField(_("补正工作日数"), null=True, blank=True)
    correction_deadline_provisional = models.BooleanField(_("补正期限暂定"), default=False)
    # The field values when the correction was asked for, so the reviewer sees what changed.
    correction_snapshot = models.JSONField(_("退回补正时的申报信息"), default=dict, blank=True)
    award_amount = models.DecimalField(
        _("资助金额"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    public_notice = models.ForeignKey(
        "PublicNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("申报")
        verbose_name_plural = _("申报")
        ordering = ["-created_at"]
        permissions = [
            ("view_all_applications", _("查看全部申报")),
            ("recommend", _("市州推荐")),
            ("manage_panels", _("组织专家评审")),
            ("expert_review", _("专家评分")),
            ("committee_vote", _("评审委员会表决")),
            ("formal_review", _("形式审查")),
            ("leadership_review", _("审议")),
            ("run_public_notice", _("办理公示和异议")),
            ("issue_decision", _("印发决定")),
            ("disburse", _("拨付资金")),
            ("manage_calendar", _("录入节假日安排")),
            ("manage_accounts", _("管理账号安全")),
        ]
        indexes = [
            # The lists: newest first, by status, and a call's applications by status.
            models.Index(fields=["-created_at", "-id"], name="application_newest"),
            models.Index(fields=["status", "-created_at"], name="application_status_newest"),
            models.Index(fields=["call", "status"], name="application_call_status"),
        ]
        constraints = [
            # One application per institution, call and designation (level, or patent for awards).
            models.UniqueConstraint(
                fields=["call", "institution", "tier", "patent_number"],
                name="one_application_per_designation",
            )
        ]

    def __str__(self):
        return " · ".join(part for part in (str(self.institution), self.tier_label) if part)

    @property
    def program(self) -> dict:
        return self.program_version.content

    @property
    def tier_label(self) -> str:
        from forms.validators import localised

        tier = self.program_version.tier_or_none(self.tier)
        return localised(tier) if tier else ""

    @property
    def tier_label_zh(self) -> str:
        """For official documents, which are Chinese whatever the reader's language."""
        tier = self.program_version.tier_or_none(self.tier)
        return tier["zh"] if tier else ""

    @property
    def is_expired(self) -> bool:
        return self.valid_until is not None and self.valid_until < timezone.localdate()

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.CORRECTION)


class Attachment(models.Model):
    """A PDF uploaded with an application; files are stored once and never replaced in place."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("材料类型"), max_length=64)
    file = models.FileField(_("文件"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(_("大小"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    superseded = models.BooleanField(_("已被替换"), default=False)

    class Meta:
        verbose_name = _("申报材料")
        verbose_name_plural = _("申报材料")
        ordering = ["kind", "-uploaded_at"]

    def __str__(self):
        return self.original_name

    @property
    def kind_label(self) -> str:
        from forms.validators import localised

        for attachment in self.application.program["attachments"]:
            if attachment["key"] == self.kind:
                return localised(attachment)
        return self.kind


class PublicNotice(models.Model):
    """公示: the approved list of a call, published for a period in which objections are taken."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="public_notices")
    title = models.CharField(_("公示标题"), max_length=200)
    starts_at = models.DateTimeField(_("公示开始"))
    ends_at = models.DateTimeField(_("公示截止"))
    days = models.PositiveIntegerField(_("公示天数"), null=True, blank=True)
    day_kind = models.CharField(_("天数计法"), max_length=16, blank=True)
    ends_provisional = models.BooleanField(_("公示截止时间暂定"), default=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-starts_at"]

    def __str__(self):
        return self.title

    def is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.starts_at <= at < self.ends_at


class NoticePeriodChange(models.Model):
    """A notice period ended early or extended by the notice officer, with the reason: shown on
    the public notice (原截止时间 → 新截止时间) and written to the audit trail."""

    class Kind(models.TextChoices):
        END_EARLY = "end_early", _("提前结束公示")
        EXTEND = "extend", _("延长公示期")

    notice = models.ForeignKey(PublicNotice, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(_("调整方式"), max_length=16, choices=Kind.choices)
    old_ends_at = models.DateTimeField(_("原截止时间"))
    new_ends_at = models.DateTimeField(_("新截止时间"))
    reason = models.TextField(_("理由"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("调整时间"), default=timezone.now)

    class Meta:
        verbose_name = _("公示期调整")
        verbose_name_plural = _("公示期调整")
        ordering = ["changed_at", "pk"]

    def __str__(self):
        return f"{self.notice} · {self.get_kind_display()}"


class Objection(models.Model):
    """异议: a written objection with evidence against an application on a public notice."""

    class Capacity(models.TextChoices):
        ORGANISATION = "organisation", _("单位（加盖公章）")
        PERSON = "person", _("个人（实名）")

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        UPHELD = "upheld", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="objections"
    )
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="objections"
    )
    capacity = models.CharField(_("异议人身份"), max_length=20, choices=Capacity.choices)
    organisation_name = models.CharField(_("单位名称"), max_length=200, blank=True)
    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)
    # Encrypted at rest, shown masked but to the officer handling it (workflows.personal_data).
    id_number = EncryptedTextField(_("身份证号码"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=30)
    statement = models.TextField(_("异议内容"))
    evidence = models.FileField(_("证据材料"), upload_to="objections/%Y/%m/")
    status = models.CharField(
        _("处理状态"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    handling_reason = models.TextField(_("处理理由"), blank=True)
    lodged_at = models.DateTimeField(_("提出时间"), default=timezone.now)

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["-lodged_at"]

    def __str__(self):
        return f"{self.application} · {self.get_status_display()}"


class Payment(models.Model):
    """A disbursement recorded by finance with its voucher; one per designation, ever."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="payment"
    )
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="payments")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="payments")
    program_slug = models.SlugField(max_length=64)
    tier = models.CharField(_("级别"), max_length=32)
    # What is paid for besides the tier: the patent number for a patent award, else empty.
    designation = models.CharField(_("认定对象"), max_length=64, blank=True, default="")
    amount = models.DecimalField(
        _("金额"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    voucher_number = models.CharField(_("凭证号"), max_length=64)
    paid_on = models.DateField(_("拨付日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("拨付记录")
        verbose_name_plural = _("拨付记录")
        constraints = [
            # The same designation is never paid twice (DOMAIN.md, upgrade rule).
            models.UniqueConstraint(
                fields=["institution", "program_slug", "tier", "designation"],
                name="one_payment_per_designation",
            ),
            models.UniqueConstraint(
                fields=["program_slug", "voucher_number"], name="voucher_number_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
        ]

    def __str__(self):
        return f"{self.institution} ¥{self.amount}"


class OfficeRegion(models.Model):
    """The region a city (市州) office user acts for: GB/T 2260 code, city level (e.g. 520100)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="office_region"
    )
    region_code = models.CharField(_("地区代码"), max_length=6)
    name = models.CharField(_("市州名称"), max_length=50)

    class Meta:
        verbose_name = _("市州局")
        verbose_name_plural = _("市州局")

    def __str__(self):
        return self.name

    @property
    def prefix(self) -> str:
        """Institutions whose region code starts with this belong to the city."""
        return self.region_code[:4]


class Expert(models.Model):
    """A member of the expert pool (专家库)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert"
    )
    name = models.CharField(_("姓名"), max_length=50)
    employer = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employed_experts",
        verbose_name=_("工作单位"),
    )
    specialty = models.CharField(_("专业领域"), max_length=100, blank=True)
    active = models.BooleanField(_("在库"), default=True)

    class Meta:
        verbose_name = _("专家")
        verbose_name_plural = _("专家")

    def __str__(self):
        return self.name


class ExpertRelation(models.Model):
    """A relation an expert declared with an institution: a conflict of interest (回避)."""

    class Kind(models.TextChoices):
        COLLABORATION = "collaboration", _("近三年合作关系")
        RELATIVE = "relative", _("近亲属在该单位任职")
        OTHER = "other", _("其他利害关系")

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="relations")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("关系"), max_length=20, choices=Kind.choices)
    declared_at = models.DateTimeField(_("声明时间"), default=timezone.now)

    class Meta:
        verbose_name = _("专家利害关系")
        verbose_name_plural = _("专家利害关系")
        constraints = [
            models.UniqueConstraint(
                fields=["expert", "institution", "kind"], name="one_relation_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.expert} · {self.institution}"


class PanelSeat(models.Model):
    """One expert's place on one application's panel, from the draw to the score."""

    class Status(models.TextChoices):
        DRAWN = "drawn", _("待声明")
        DECLARED = "declared", _("已声明无利害关系")
        RECUSED = "recused", _("已回避")
        REPLACED = "replaced", _("逾期已替换")
        SCORED = "scored", _("已评分")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="seats")
    # The expert round (the expert_review stage's key) the seat belongs to.
    stage_key = models.CharField(_("评审轮次"), max_length=64, default="expert_review")
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="seats")
    task = models.ForeignKey(
        "viewflow.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.DRAWN
    )
    drawn_at = models.DateTimeField(_("抽取时间"), default=timezone.now)
    due_at = models.DateTimeField(_("评审期限"), null=True, blank=True)
    due_days = models.PositiveIntegerField(_("评审工作日数"), null=True, blank=True)
    due_provisional = models.BooleanField(_("评审期限暂定"), default=False)
    declared_at = models.DateTimeField(_("声明时间"), null=True, blank=True)
    recusal_reason = models.TextField(_("回避理由"), blank=True)
    comment = models.TextField(_("评审意见"), blank=True)
    total = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    scored_at = models.DateTimeField(_("评分时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评审席位")
        verbose_name_plural = _("评审席位")
        ordering = ["application", "drawn_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "stage_key", "expert"], name="one_seat_per_expert"
            )
        ]

    def __str__(self):
        return f"{self.application} · {self.expert}"


class PanelDraw(models.Model):
    """One random draw of experts for an application's panel, recorded so that anyone can replay
    it: the whole pool, every expert left out and why, the candidates, the seed and the order
    drawn (`random.Random(seed).sample(candidates, size)`, candidates in ascending id)."""

    class Kind(models.TextChoices):
        PANEL = "panel", _("组建评审组")
        REPLACEMENT = "replacement", _("替换回避或逾期专家")
        VACANCY = "vacancy", _("补抽空缺席位")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="draws")
    stage_key = models.CharField(_("评审轮次"), max_length=64)
    kind = models.CharField(_("抽取类型"), max_length=20, choices=Kind.choices)
    size = models.PositiveIntegerField(_("抽取人数"))
    seed = models.CharField(_("随机种子"), max_length=64)
    pool = models.JSONField(_("专家库"), default=list)
    # [{"expert": id, "reason": code, "detail": text}] for every expert of the pool left out.
    excluded = models.JSONField(_("排除的专家"), default=list)
    candidates = models.JSONField(_("候选专家"), default=list)
    drawn = models.JSONField(_("抽取顺序"), default=list)
    replaces = models.ForeignKey(
        "PanelSeat", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    drawn_at = models.DateTimeField(_("抽取时间"), default=timezone.now)

    class Meta:
        verbose_name = _("专家抽取记录")
        verbose_name_plural = _("专家抽取记录")
        ordering = ["drawn_at", "pk"]

    def __str__(self):
        return f"{self.application} · {self.stage_key} · {self.get_kind_display()}"


class PanelResult(models.Model):
    """An application's score in one expert round, and whether it went on to the next stage
    (None until the round is closed, for a round that passes only its best N)."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="panel_results"
    )
    stage_key = models.CharField(_("评审轮次"), max_length=64)
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    scored = models.PositiveIntegerField(_("评分专家人数"), default=0)
    closed_at = models.DateTimeField(_("评审完成时间"), default=timezone.now)
    rank = models.PositiveIntegerField(_("名次"), null=True, blank=True)
    advanced = models.BooleanField(_("进入下一环节"), null=True, blank=True)

    class Meta:
        verbose_name = _("专家评审结果")
        verbose_name_plural = _("专家评审结果")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "stage_key"], name="one_result_per_round"
            )
        ]

    def __str__(self):
        return f"{self.application} · {self.stage_key}: {self.score}"


class ReviewScore(models.Model):
    """Points an expert gave one rubric criterion."""

    seat = models.ForeignKey(PanelSeat, on_delete=models.CASCADE, related_name="scores")
    criterion = models.CharField(_("评分项"), max_length=64)
    points = models.DecimalField(_("得分"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            models.UniqueConstraint(fields=["seat", "criterion"], name="one_score_per_criterion")
        ]

    def __str__(self):
        return f"{self.criterion}: {self.points}"


AUDIT_ACTIONS = {
    "application_create": _("创建草稿"),
    "application_update": _("修改草稿"),
    "attachment_add": _("上传材料"),
    "submit": _("提交申报"),
    "resubmit": _("提交补正"),
    "accept": _("受理"),
    "correction": _("退回补正"),
    "refuse": _("不予受理"),
    "leadership_approve": _("审议通过"),
    "leadership_reject": _("审议不通过"),
    "public_notice_publish": _("发布公示"),
    "notice_start": _("列入公示"),
    "objection_lodge": _("提出异议"),
    "objection_uphold": _("异议成立"),
    "objection_dismiss": _("异议不成立"),
    "withdraw": _("撤销申报"),
    "notice_close": _("公示期满"),
    "notice_end_early": _("提前结束公示"),
    "notice_extend": _("延长公示期"),
    "correction_lapse": _("补正期限届满"),
    "decide": _("决定资助"),
    "document_issue": _("印发文书"),
    "award_letter": _("印发奖励通知书"),
    "payment_record": _("登记拨付"),
    "pay": _("已拨付"),
    "institution_member_add": _("添加单位成员"),
    "user_signup": _("注册账号"),
    "document_reissue": _("重新印发文书"),
    "document_void": _("作废文书"),
    "recommend": _("推荐"),
    "not_recommend": _("不予推荐"),
    "tier_assign": _("评定奖励等级"),
    "committee_award": _("评审委员会表决通过"),
    "committee_not_award": _("评审委员会表决未获奖"),
    "committee_list_approve": _("批准评审委员会名单"),
    "panel_draw": _("抽取评审专家"),
    "seat_declare": _("专家声明无利害关系"),
    "seat_recuse": _("专家回避"),
    "seat_draw": _("补抽评审专家"),
    "seat_replace": _("替换逾期专家"),
    "panel_vacancy": _("专家席位空缺"),
    "panel_vacancy_close": _("关闭空缺席位"),
    "seat_score": _("专家评分"),
    "panel_close": _("专家评审完成"),
    "round_close": _("确定进入下一环节名单"),
    "deadline_recompute": _("按录入的节假日安排重新计算期限"),
    "calendar_year_enter": _("录入年度节假日安排"),
    "advance": _("进入下一环节"),
    "not_advance": _("未进入下一环节"),
    "second_factor_enrol": _("启用两步验证"),
    "second_factor_disable": _("关闭两步验证"),
    "recovery_codes_regenerate": _("重新生成恢复码"),
    "second_factor_reset": _("重置两步验证"),
    "login_unlock": _("解除登录锁定"),
}


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit records are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit records are append-only.")


class AuditRecord(models.Model):
    """Append-only trail: who did what, when, from which state to which, and why."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="audit"
    )
    call = models.ForeignKey(Call, on_delete=models.PROTECT, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    action = models.CharField(_("操作"), max_length=64)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # The hash chain (workflows.audit_chain): the content hash is computed here before the
    # INSERT; the database's trigger sets prev_hash and hash (read them after refresh_from_db).
    content_hash = models.CharField(max_length=64, editable=False, default="")
    prev_hash = models.CharField(max_length=64, editable=False, default="")
    hash = models.CharField(max_length=64, editable=False, default="")

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["created_at", "pk"]
        constraints = [
            # No fork: at most one record follows each record.
            models.UniqueConstraint(
                fields=["prev_hash"],
                condition=~models.Q(prev_hash=""),
                name="audit_chain_no_fork",
            ),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit records are append-only.")
        self.data = audit_chain.data_normalise(self.data)
        self.content_hash = audit_chain.record_content_hash(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit records are append-only.")

    @property
    def action_label(self) -> str:
        return str(AUDIT_ACTIONS.get(self.action, self.action))

    @property
    def reason_shown(self) -> str:
        """The reason in the reader's language when the system wrote it (its wording kept in
        `data`), else as recorded."""
        stored = (self.data or {}).get("reason_wording")
        return wording_phrase(stored) if stored else self.reason

    @property
    def from_label(self) -> str:
        return Application.Status(self.from_status).label if self.from_status else ""

    @property
    def to_label(self) -> str:
        return Application.Status(self.to_status).label if self.to_status else ""


class ProgramRehearsal(models.Model):
    """A rehearsal of a program file (workflows.rehearsal) a staff member asked for, and its
    report."""

    class Status(models.TextChoices):
        RUNNING = "running", _("正在预演")
        FINISHED = "finished", _("已完成")

    program_slug = models.SlugField(_("项目"), max_length=64)
    sha256 = models.CharField(_("文件内容哈希"), max_length=64, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    ok = models.BooleanField(_("全部走通"), null=True, blank=True)
    report = models.JSONField(_("预演报告"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("项目预演")
        verbose_name_plural = _("项目预演")
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"{self.program_slug} {self.requested_at:%Y-%m-%d %H:%M}"


class CalendarYear(models.Model):
    """A year's statutory holidays and make-up working days, complete: taken from the maintained
    library for the years it knows, or entered by staff from the State Council's notice
    (国务院办公厅关于YYYY年部分节假日安排的通知). A year without a row is unknown: working days
    in it count Monday to Friday, and every deadline that reaches it is provisional (暂定)."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("依据"), max_length=300)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )
    entered_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("年度节假日安排")
        verbose_name_plural = _("年度节假日安排")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """A statutory holiday (放假) or a make-up working day (调休上班) of an entered year."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    calendar_year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["day"]

    def __str__(self):
        return f"{self.day} {self.get_kind_display()} {self.name}"


class Notification(models.Model):
    """A message to one person: shown on their messages page and, when they have an email
    address, emailed by a background job after the change that caused it was committed
    (services.notifications). `dedupe_key` makes a reminder or an escalation once only."""

    class Kind(models.TextChoices):
        DOCUMENT_ISSUED = "document_issued", _("文书印发")
        CORRECTION_REQUESTED = "correction_requested", _("退回补正")
        DECISION = "decision", _("办理结果")
        WORK_ARRIVED = "work_arrived", _("新的待办")
        REMINDER = "reminder", _("期限提醒")
        OVERDUE = "overdue", _("逾期督办")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("申报"),
    )
    dedupe_key = models.CharField(_("去重标识"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    # The title's and body's msgids with their arguments (workflows.wording), so that the
    # messages page reads them in the reader's language; `title` and `body` hold them written
    # in the site's, for the email. Empty for a message written before.
    wording = models.JSONField(_("措辞"), default=dict, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        constraints = [
            # A reminder or escalation for one deadline reaches each person once.
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="one_notification_per_key",
            )
        ]

    def __str__(self):
        return f"{self.recipient} · {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def title_shown(self) -> str:
        """The title in the reader's language (the written one for a message without wording)."""
        return wording_title(self.wording) if self.wording else self.title

    @property
    def body_shown(self) -> str:
        return wording_body(self.wording) if self.wording else self.body


class CommandLease(models.Model):
    """Which process runs a periodic command (`workflow_timers`) until when, on databases
    without advisory locks (SQLite; PostgreSQL uses `pg_try_advisory_lock`, see
    services.timers). A lease past `expires_at` is free: a crashed holder blocks nobody for
    longer than its lease."""

    name = models.CharField(_("命令"), max_length=100, primary_key=True)
    holder = models.CharField(_("持有进程"), max_length=200)
    expires_at = models.DateTimeField(_("到期时间"))

    class Meta:
        verbose_name = _("定时命令租约")
        verbose_name_plural = _("定时命令租约")

    def __str__(self):
        return f"{self.name} · {self.holder}"


class ReaderLanguage(models.Model):
    """The language a signed-in person chose for the site (Django's language switch keeps it in
    a cookie of one browser): their emails are written in it, and signing in on another
    browser brings it back (services.accounts)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="reader_language",
        verbose_name=_("用户"),
    )
    language = models.CharField(_("语言"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("界面语言")
        verbose_name_plural = _("界面语言")

    def __str__(self):
        return f"{self.user} · {self.language}"
