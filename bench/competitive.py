"""Benchmark: full IP advantage-enterprise recognition lifecycles (city recommendation, formal
review, a five-expert panel, leadership, public notice, recognition decision and certificate) per
second on SQLite, and the SQL queries each transition costs.

Run with `make bench` or `.venv/bin/python bench/competitive.py`."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from bench.support import QueryCounter, batches_timed, database_ready  # noqa: E402

SLUG = "ip_advantage_enterprise"
BATCH = int(os.environ.get("BENCH_BATCH", "12"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def transitions_measured(cast, call) -> dict[str, int]:
    from workflows import demo, services
    from workflows.models import PanelSeat
    from workflows.stages.city_recommendation import services as recommendation
    from workflows.stages.decision.services import decision_issue
    from workflows.stages.expert_review import services as expert_review
    from workflows.stages.formal_review.services import formal_review_complete
    from workflows.stages.leadership_meeting.services import leadership_decide
    from workflows.stages.public_notice.services import public_notice_publish

    counter = QueryCounter()
    measure = counter.measure

    institution = demo.institution_make(user=cast.applicant, serial=900001)
    application = measure(
        "draft with attachments",
        demo.application_draft,
        user=cast.applicant,
        call=call,
        institution=institution,
    )
    measure("submit", services.application_submit, user=cast.applicant, application=application)
    measure(
        "city recommendation",
        recommendation.recommendation_decide,
        user=cast.city_office,
        application=application,
        recommended=True,
        reason="",
    )
    measure(
        "formal review: accept (+PDF, panel drawn)",
        formal_review_complete,
        user=cast.formal_reviewer,
        application=application,
        outcome="accept",
    )
    rubric = application.program["rubric"]
    for n, seat in enumerate(application.seats.select_related("expert__user"), 1):
        user = seat.expert.user
        seat = measure(
            f"expert {n}: declare", expert_review.seat_declare, user=user, seat=seat, conflict=False
        )
        measure(
            f"expert {n}: score" + (" (closes the panel)" if n == 5 else ""),
            expert_review.seat_score,
            user=user,
            seat=seat,
            points={c["key"]: c["max_points"] * 0.8 for c in rubric},
            comment="材料翔实。",
        )
    assert application.seats.filter(status=PanelSeat.Status.SCORED).count() == 5
    measure(
        "leadership approve",
        leadership_decide,
        user=cast.leadership,
        decisions=[(application, True, "")],
    )
    measure("public notice publish", public_notice_publish, user=cast.notice_officer, call=call)
    measure("notice period closes (timer)", demo.notice_expire, call=call)
    measure(
        "recognition decision + certificate",
        decision_issue,
        user=cast.notice_officer,
        call=call,
    )
    return counter


def main():
    from workflows import demo
    from workflows.rehearsal import rehearse

    database_ready()
    cast = demo.cast_make()
    counter = transitions_measured(cast, demo.call_make(slug=SLUG, title="基准：逐步"))
    counter.report("Queries per transition (one enterprise, five-expert panel):")
    print(
        f"\nFull advantage-enterprise lifecycles (batch of {BATCH}, 5 experts each, "
        "3 PDFs each incl. the batch decision):"
    )
    batches_timed(
        run=lambda n: rehearse(
            cast=cast,
            slug=SLUG,
            per_branch=BATCH,
            one_call=True,
            passing_only=True,
            title=f"基准批次{n}",
            serial_start=100 + n * BATCH,
        ),
        batch=BATCH,
        rounds=ROUNDS,
        label="recognitions",
    )


if __name__ == "__main__":
    main()
