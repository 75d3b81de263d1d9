"""Flow classes, one per program file, built from the file's ordered stage list.

viewflow stores dotted paths to these classes in its tables, so each class is a module attribute
with a stable name derived from the program slug (`tech_transfer_agency` ->
`TechTransferAgencyFlow`). Nothing here knows a particular program.
"""

import random
import time
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from viewflow.workflow import flow, lock
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.models import Process

from documents.prepared import Prepared

from .programs import ProgramFile, programs_loaded
from .stages import stage_module

_PROCESS_ROW_LOCKED = Prepared(
    Process,
    lambda pk: Process.objects.filter(pk=pk).select_for_update(nowait=True).values("pk")[:1],
)


class ProcessLock(lock.SelectForUpdateLock):
    """viewflow's lock of a process (its row read FOR UPDATE NOWAIT, tried again a few times
    after a short random wait), the statement compiled once: every step takes it.

    On SQLite nothing is read: SQLite has no row locks (Django drops FOR UPDATE there, so the
    read locked nothing), and each transaction holds the database's write lock from its start
    (`transaction_mode` IMMEDIATE, config/settings/base.py), which orders the steps as the row
    lock does. The step still runs in a transaction of its own, or under a savepoint inside
    its caller's, as on PostgreSQL."""

    @contextmanager
    def __call__(self, flow_class, process_pk):
        if connection.vendor == "sqlite":
            with transaction.atomic():
                yield
            return
        for attempt in range(self.attempts):
            with transaction.atomic():
                try:
                    _PROCESS_ROW_LOCKED(pk=process_pk)
                except DatabaseError:
                    if attempt == self.attempts - 1:
                        raise FlowLockFailed(f"Lock failed for {flow_class}") from None
                    time.sleep(((attempt + 1) * random.random() + 2**attempt) / 2.5)
                else:
                    yield
                    break


process_lock = ProcessLock()


def flow_class_build(program: ProgramFile) -> type[flow.Flow]:
    """Wire the program's stages back to front: each stage's exit is the next stage's entry."""
    attrs: dict = {}
    next_node = None
    for stage in reversed(program.content["stages"]):
        entry, nodes = stage_module(stage["type"], "flow").build(stage, next_node)
        clash = set(nodes) & set(attrs)
        if clash:
            raise ValueError(f"{program.source}: stages define the same nodes twice: {clash}")
        attrs.update(nodes)
        next_node = entry
    title = program.content["title"]
    attrs.update(
        __module__=__name__,
        __doc__=f"{title['zh']}\n\n{title['en']}",
        process_title=title["zh"],
        lock_impl=process_lock,
        program_slug=program.slug,
    )
    return type(program.flow_class_name, (flow.Flow,), attrs)


FLOWS: dict[str, type[flow.Flow]] = {}


def flow_register(program: ProgramFile) -> type[flow.Flow]:
    """Build the program's flow and make it importable by the dotted path viewflow stores."""
    flow_class = flow_class_build(program)
    FLOWS[program.slug] = globals()[program.flow_class_name] = flow_class
    return flow_class


for _program in programs_loaded().values():
    flow_register(_program)


def flow_for(slug: str) -> type[flow.Flow]:
    return FLOWS[slug]


def nodes_named(slug: str, local_name: str, stage_key: str | None = None) -> list:
    """The nodes of the program's flow called `local_name` in their stage: one per stage of that
    type (a type may appear more than once under keys of its own), or the one of `stage_key`."""
    return [
        node
        for node in FLOWS[slug].instance.nodes()
        if getattr(node, "local_name", node.name) == local_name
        and (stage_key is None or getattr(node, "stage_key", None) == stage_key)
    ]


def node_refs(slug: str, local_name: str, stage_key: str | None = None) -> list[str]:
    """`nodes_named`, as viewflow's task rows name them (a kept read's parameters)."""
    return [get_task_ref(node) for node in nodes_named(slug, local_name, stage_key)]


def local_name(node) -> str:
    """A node's name within its stage (`final_review__expert_score` -> `expert_score`)."""
    return getattr(node, "local_name", node.name)
