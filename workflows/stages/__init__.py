"""Stage types: the fixed vocabulary a program file's `[[stages]]` list is written in.

Each stage type is one package here, the unit you read, change and test (like a django-oscar app):

- `params.py`: `PARAMS` ({name: (kind, default)}; kind is int, str, dict or a set of allowed
  values; default None means the file must give it), `REQUIRES` (stage types that must come
  earlier; a tuple entry means any one of them) and optionally `stage_problems(stage, content)`.
- `flow.py`: `build(stage, next_node) -> (entry_node_name, {name: node})`, the viewflow nodes of
  the stage wired to the next stage's entry (or to an end of its own when it is last).
- `services.py`, `views.py`, `urls.py`, `forms.py`, `templates/<type>/`: its actions and pages.
  `urls.py` may also list `NAV` entries (permission, url name, label) for the menu, and
  `TASK_ROUTES` ({node name: callable(task, application) -> URL}) for the inbox.

`STAGE_TYPES` below is the registry: a new stage type is a new package and one line here. The
engine reaches a package only through `stage_module`, so the engine imports no stage type and
the stage packages build on the engine, never the reverse.
"""

from importlib import import_module
from types import ModuleType

STAGE_TYPES = (
    "application",
    "city_recommendation",
    "formal_review",
    "expert_review",
    "committee_vote",
    "leadership_meeting",
    "public_notice",
    "decision",
    "disbursement",
)


def stage_module(stage_type: str, part: str) -> ModuleType | None:
    """The module `part` of the stage type's package (None when the package has no such
    module); KeyError for a stage type that is not registered."""
    if stage_type not in STAGE_TYPES:
        raise KeyError(stage_type)
    name = f"{__name__}.{stage_type}.{part}"
    try:
        return import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return None
        raise


def stage_modules(part: str) -> list[tuple[str, ModuleType]]:
    """(stage type, module) of every registered package that has the module `part`."""
    found = ((stage_type, stage_module(stage_type, part)) for stage_type in STAGE_TYPES)
    return [(stage_type, module) for stage_type, module in found if module is not None]


def stage_title(stage: dict) -> str:
    """How pages call a stage of a program file: its own `name` (e.g. 初评), else its type's."""
    from django.utils.translation import gettext as _

    titles = {
        "application": _("申报"),
        "city_recommendation": _("市州推荐"),
        "formal_review": _("形式审查"),
        "expert_review": _("专家评审"),
        "committee_vote": _("评审委员会表决"),
        "leadership_meeting": _("审议"),
        "public_notice": _("公示"),
        "decision": _("印发决定"),
        "disbursement": _("拨付"),
    }
    return stage.get("name") or titles.get(stage["type"], stage["type"])
