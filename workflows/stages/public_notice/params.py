"""Parameters of the public notice stage."""

PARAMS = {
    "role": (str, "notice_officer"),
    "days": (int, 7),
    "day_kind": ({"calendar", "working"}, "calendar"),
}
# The list published is whoever reached the notice: after a leadership meeting, a committee
# vote, or straight after an expert panel.
REQUIRES = ("application",)
