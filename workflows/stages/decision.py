"""决定: one decision document for the call's list, and a notice or certificate per applicant."""

from viewflow.workflow import flow

from .base import next_or_end

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


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["await_decision"] = flow.Handle().Next(next_or_end(nodes, next_node, "decided"))
    return "await_decision", nodes
