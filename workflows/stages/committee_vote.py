"""Stage type committee_vote: being written (issue 3). Not usable in a program file yet."""

PARAMS: dict = {}
REQUIRES: tuple = ("application",)


def build(stage: dict, next_node: str | None):
    raise NotImplementedError("stage type committee_vote is not written yet")
