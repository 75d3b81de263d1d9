"""Parameters of the decision stage: which documents it issues, their titles, the validity."""

PARAMS = {
    "role": (str, "notice_officer"),
    # The batch document and what each applicant receives.
    "document": (
        {"funding_decision", "recognition_decision", "commendation_decision"},
        "funding_decision",
    ),
    "per_applicant": ({"decision_notice", "certificate"}, "decision_notice"),
    # Years a recognition or certificate stays valid; 0 means no expiry.
    "validity_years": (int, 0),
    # Headings printed on the documents; empty means the default wording.
    "title": (str, ""),
    "certificate_title": (str, ""),
}
REQUIRES = ("application",)


def stage_problems(stage: dict, content: dict) -> list[tuple[str, str]]:
    """Funding documents state amounts: only a program that pays may issue them."""
    pays = any(s.get("type") == "disbursement" for s in content.get("stages", []))
    problems = []
    if not pays and stage.get("document", "funding_decision") == "funding_decision":
        problems.append(
            (
                "document",
                "a program without a disbursement stage issues a recognition_decision "
                "or a commendation_decision, not a funding_decision",
            )
        )
    if not pays and stage.get("per_applicant", "decision_notice") == "decision_notice":
        problems.append(
            (
                "per_applicant",
                "a program without a disbursement stage gives each applicant a "
                "certificate, not a decision_notice",
            )
        )
    return problems
