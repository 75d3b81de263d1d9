"""Stage type city_recommendation: being written (issue 3). Not usable in a program file yet."""

PARAMS: dict = {}
REQUIRES: tuple = ("application",)


def build(stage: dict, next_node: str | None):
    raise NotImplementedError("stage type city_recommendation is not written yet")
