"""Parameters of the leadership meeting stage."""

PARAMS = {"role": (str, "leadership")}
REQUIRES = ("application",)
