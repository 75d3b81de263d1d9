"""Scoring rubrics of competitive programs (专家评审评分标准), read from the program file."""


def rubric_problems(content: dict, source: str) -> list:
    """Problems of a program file's `[[rubric]]` list (being written, issue 3)."""
    return []
