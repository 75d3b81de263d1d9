"""Parameters of the formal review stage."""

PARAMS = {"role": (str, "formal_reviewer"), "correction_working_days": (int, 5)}
REQUIRES = ("application",)
