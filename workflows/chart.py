"""A program's flow chart as staff read it: the program file's stages in order under the file's
Chinese names, each with the outcomes that end an application there (不予受理, 审议不通过…) and
those that loop back (退回补正后受理…). Drawn as our own SVG, large enough to read, instead of
viewflow's node graph with its English node names."""

from dataclasses import dataclass, field

from .programs.content import stage_key
from .stages import stage_module

WIDTH = 380
BOX_X, BOX_W, BOX_H = 10, 200, 52
END_X, END_W, END_H = 240, 130, 26
GAP = 28


@dataclass
class ChartStage:
    name: str
    y: int
    loops: list[str] = field(default_factory=list)
    ends: list[dict] = field(default_factory=list)
    next_y: int | None = None

    @property
    def middle(self) -> int:
        return self.y + BOX_H // 2

    @property
    def bottom(self) -> int:
        return self.y + BOX_H


def chart_layout(content: dict) -> dict:
    """The boxes of the chart with their coordinates, for `workflows/program_chart.svg`."""
    stages, y = [], 10
    for stage in content["stages"]:
        module = stage_module(stage["type"], "rehearsal")
        name = stage.get("name") or (str(module.NAME) if module else stage_key(stage))
        outcomes = list(module.outcomes(stage, content)) if module else []
        ending = set(getattr(module, "ENDS", {}))
        row = ChartStage(name=name, y=y)
        for outcome, label in outcomes[1:]:
            if outcome in ending:
                row.ends.append({"label": str(label)})
            else:
                row.loops.append(str(label))
        for n, end in enumerate(row.ends):
            end["y"] = y + n * (END_H + 6)
            end["middle"] = end["y"] + END_H // 2
        stages.append(row)
        height = max(BOX_H, len(row.ends) * (END_H + 6))
        y += height + GAP
    for this, following in zip(stages, stages[1:], strict=False):
        this.next_y = following.y
    finish_y = y
    return {
        "stages": stages,
        "finish_y": finish_y,
        "height": finish_y + 44,
        "width": WIDTH,
        "box": {"x": BOX_X, "w": BOX_W, "h": BOX_H, "cx": BOX_X + BOX_W // 2},
        "end": {"x": END_X, "w": END_W, "h": END_H, "cx": END_X + END_W // 2},
    }
