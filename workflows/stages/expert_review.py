"""Stage type expert_review: being written (issue 3). Not usable in a program file yet."""

PARAMS: dict = {}
REQUIRES: tuple = ("application",)


def build(stage: dict, next_node: str | None):
    raise NotImplementedError("stage type expert_review is not written yet")
