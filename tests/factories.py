"""factory_boy factories: the one place tests make domain objects."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from workflows import services
from workflows.demo import DEMO_PASSWORD, uscc_make
from workflows.models import Application, Call, Institution, Payment


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    program_slug = "tech_transfer_agency"
    title = factory.Sequence(lambda n: f"2026年度技术转移机构经费资助申报（第{n}批）")
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    designation_from = date(2025, 1, 1)
    designation_to = factory.LazyFunction(timezone.localdate)
    budget_total = Decimal("20000000.00")


_serial = iter(range(1000, 10**8))


def institution_for(user, *, name: str | None = None, region_code: str = "520100") -> Institution:
    """Register an institution the way an applicant does (membership + object permissions)."""
    serial = next(_serial)
    return services.institution_register(
        user=user,
        name=name or f"贵州测试技术转移中心{serial}",
        uscc=uscc_make(serial, region_code),
        region_code=region_code,
    )


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application at a given status, made directly (statistics and list tests): status
    changes in the app go through services.application_move; this skips the flow."""

    class Meta:
        model = Application

    call = factory.SubFactory(CallFactory)
    created_by = factory.SubFactory(UserFactory, role="applicant")
    institution = factory.LazyAttribute(lambda o: institution_for(o.created_by))
    program_version = factory.LazyAttribute(
        lambda o: services.program_version_current(slug=o.call.program_slug)
    )
    status = Application.Status.SUBMITTED
    tier = "provincial"


class PaymentFactory(factory.django.DjangoModelFactory):
    """A recorded payment of an application's award (set-up only: the app records payments
    through the disbursement stage, which also draws the call's budget down)."""

    class Meta:
        model = Payment

    application = factory.SubFactory(ApplicationFactory, status=Application.Status.PAID)
    institution = factory.LazyAttribute(lambda o: o.application.institution)
    call = factory.LazyAttribute(lambda o: o.application.call)
    program_slug = factory.LazyAttribute(lambda o: o.application.call.program_slug)
    tier = factory.LazyAttribute(lambda o: o.application.tier)
    amount = factory.LazyAttribute(lambda o: o.application.award_amount)
    voucher_number = factory.Sequence(lambda n: f"记-{n:05d}")
    paid_on = factory.LazyFunction(timezone.localdate)
    recorded_by = factory.SubFactory(UserFactory, role="finance_officer")
