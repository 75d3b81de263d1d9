"""Benchmark: full tech-transfer-agency grant lifecycles per second on SQLite, and the number of
SQL queries each transition costs.

Run with `make bench` (SQLite file database in a temporary folder; PostgreSQL when DATABASE_URL
names one). Every lifecycle goes through the services, renders its real PDFs (acceptance notice,
decision notice, award letter, plus the batch decision) and passes viewflow's timer.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from bench.support import QueryCounter, batches_timed, database_ready  # noqa: E402

BATCH = int(os.environ.get("BENCH_BATCH", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def transitions_measured(cast, call):
    """One application step by step; queries per transition."""
    from workflows import demo, services
    from workflows.stages.decision.services import decision_issue
    from workflows.stages.disbursement.services import award_letter_issue, payment_record
    from workflows.stages.formal_review.services import formal_review_complete
    from workflows.stages.leadership_meeting.services import leadership_decide
    from workflows.stages.public_notice.services import public_notice_publish

    counter = QueryCounter()
    measure = counter.measure

    institution = demo.institution_make(user=cast.applicant, serial=900001)
    application = measure(
        "draft (fields)",
        services.application_create,
        user=cast.applicant,
        call=call,
        institution=institution,
        data={
            "tier": "national",
            "approval_number": "黔科函〔2026〕1号",
            "approval_date": call.designation_from,
            "bank_name": "中国银行",
            "account_name": institution.name,
            "bank_account": "240200000001",
            "contact_name": "张敏",
            "contact_phone": "0851-85550000",
        },
    )
    for key in ("approval_document", "business_licence"):
        measure(
            f"attachment ({key})",
            services.attachment_add,
            user=cast.applicant,
            application=application,
            kind=key,
            upload=demo.pdf_upload(),
        )
    measure("submit", services.application_submit, user=cast.applicant, application=application)
    measure(
        "formal review: correction",
        formal_review_complete,
        user=cast.formal_reviewer,
        application=application,
        outcome="correction",
        reason="请补充材料",
    )
    measure("resubmit", services.application_submit, user=cast.applicant, application=application)
    measure(
        "formal review: accept (+PDF)",
        formal_review_complete,
        user=cast.formal_reviewer,
        application=application,
        outcome="accept",
    )
    measure(
        "leadership approve",
        leadership_decide,
        user=cast.leadership,
        decisions=[(application, True, "")],
    )
    measure(
        "public notice publish (1 app)",
        public_notice_publish,
        user=cast.notice_officer,
        call=call,
    )
    measure("notice period closes (timer)", demo.notice_expire, call=call)
    measure(
        "decision (batch doc + notice, 1 app)",
        decision_issue,
        user=cast.notice_officer,
        call=call,
    )
    measure(
        "award letter (+PDF)",
        award_letter_issue,
        user=cast.finance_officer,
        application=application,
    )
    measure(
        "payment",
        payment_record,
        user=cast.finance_officer,
        application=application,
        voucher_number="PZ-BENCH-1",
        paid_on=timezone.localdate(),
    )
    return counter


def main():
    from workflows import demo

    database_ready()
    cast = demo.cast_make()
    counter = transitions_measured(cast, demo.call_make(title="基准：逐步"))
    counter.report("Queries per transition (one application, national tier):")
    print(
        f"\nFull grant lifecycles (batch of {BATCH}, draft to paid, 5 PDFs each incl. the "
        "batch decision):"
    )
    batches_timed(
        run=lambda n: demo.batch_run(
            cast=cast,
            call=demo.call_make(title=f"基准批次{n}"),
            branches=["paid"] * BATCH,
            serial_start=100 + n * BATCH,
        ),
        batch=BATCH,
        rounds=ROUNDS,
        label="paid lifecycles",
    )


if __name__ == "__main__":
    main()
