"""Parameters of the expert review stage."""

PARAMS = {
    # The staff role that runs the panels (it must hold workflows.manage_panels).
    "role": (str, "formal_reviewer"),
    "panel_size": (int, 5),
    "score_method": ({"mean", "trimmed_mean"}, "trimmed_mean"),
    # Working days an expert has from the draw to the score; later, staff may replace them.
    "review_days": (int, 10),
}
REQUIRES = ("application",)
MANAGE_PANELS = "workflows.manage_panels"


def stage_problems(stage: dict, content: dict) -> list[tuple[str, str]]:
    """(parameter, message) for what the generic parameter check cannot see: the staff role
    must be able to manage panels (replace late experts, fill or close vacant seats). The
    rubric is checked by `workflows.rubric`."""
    from ...permissions import ROLES

    role = stage.get("role", PARAMS["role"][1])
    if isinstance(role, str) and role in ROLES and MANAGE_PANELS not in ROLES[role][1]:
        return [("role", f"the role must hold {MANAGE_PANELS}")]
    return []
