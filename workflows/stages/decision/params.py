"""Parameters of the decision stage: which documents it issues, their titles, the validity."""

from typing import Annotated, Literal

from ...programs.types import Count, Role, StageBase, at_most


class DecisionStage(StageBase):
    type: Literal["decision"]
    role: Role = "notice_officer"
    # The call page that issues the decision asks this of whoever issues it.
    ROLE_MUST_HOLD = "workflows.issue_decision"
    # The batch document and what each applicant receives.
    document: Literal["funding_decision", "recognition_decision", "commendation_decision"] = (
        "funding_decision"
    )
    per_applicant: Literal["decision_notice", "certificate"] = "decision_notice"
    # Years a recognition or certificate stays valid; 0 means no expiry.
    validity_years: Annotated[Count, at_most(30, "years")] = 0
    # Headings printed on the documents; empty means the default wording.
    title: str = ""
    certificate_title: str = ""

    NEEDS = ("list_decided",)
    PROVIDES = ("decided",)
    FORBIDS = ("decided",)

    def problems(self, program) -> list[tuple[str, str]]:
        """Funding documents state amounts: only a program that pays may issue them."""
        pays = any(stage.type == "disbursement" for stage in program.stages)
        problems = []
        if not pays and self.document == "funding_decision":
            problems.append(
                (
                    "document",
                    "a program without a disbursement stage issues a recognition_decision "
                    "or a commendation_decision, not a funding_decision",
                )
            )
        if not pays and self.per_applicant == "decision_notice":
            problems.append(
                (
                    "per_applicant",
                    "a program without a disbursement stage gives each applicant a "
                    "certificate, not a decision_notice",
                )
            )
        return problems


Params = DecisionStage
