"""Parameters of the disbursement stage."""

PARAMS = {"role": (str, "finance_officer")}
REQUIRES = ("application", "decision")
