"""A program's flow chart as staff read it: the program file's stages in order under the file's
Chinese names, each with the outcomes that end an application there (不予受理, 审议不通过…) and
those that loop back (退回补正后受理…). Drawn as our own SVG, large enough to read, instead of
viewflow's node graph with its English node names."""

from dataclasses import dataclass, field

from documents.rendering import text_ems

from .programs.content import stage_key
from .stages import stage_module

BOX_X, BOX_W, BOX_H = 10, 200, 52
END_W, END_H = 130, 26
GAP = 28
# Font sizes of the template (px): a stage's name, its loops, an ending's label.
NAME_PX, LOOP_PX, END_PX = 17, 13, 14


def text_width(text: str, px: int) -> int:
    """About how wide `text` is drawn at `px`: a Chinese character one em, other characters
    (English labels) about half of one."""
    return int(text_ems(text, narrow=0.56) * px)


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
    # Boxes as wide as their longest label (English labels are longer than the Chinese ones
    # the sizes were first drawn for), the chart as wide as its boxes.
    box_w = max(
        [BOX_W]
        + [text_width(s.name, NAME_PX) + 24 for s in stages]
        + [text_width("、".join(s.loops), LOOP_PX) + 16 for s in stages]
    )
    end_w = max([END_W] + [text_width(e["label"], END_PX) + 20 for s in stages for e in s.ends])
    end_x = BOX_X + box_w + 30
    return {
        "stages": stages,
        "finish_y": finish_y,
        "height": finish_y + 44,
        "width": end_x + end_w + 10,
        "box": {"x": BOX_X, "w": box_w, "h": BOX_H, "cx": BOX_X + box_w // 2},
        "end": {"x": end_x, "w": end_w, "h": END_H, "cx": end_x + end_w // 2},
    }
