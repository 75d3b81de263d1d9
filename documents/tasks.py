"""Background jobs of the documents layer (Django's Tasks API): the runners of a batch, and the
rendering of a document issued on its own (documents.services)."""

from django_tasks import task


@task()
def issue_batch_run_job(*, batch_id: int) -> int:
    """Issue documents of the batch until it is complete (documents.batch); how many the batch
    has issued by then."""
    from .batch import IssueBatchFailed, issue_batch_run

    try:
        return issue_batch_run(batch_id, count_each=True).done
    except IssueBatchFailed:
        return 0  # the batch's row says why; the job itself did its part


@task()
def document_render_job(*, document_id: int) -> bool:
    """Render, sign and store the PDF of a document recorded with its PDF pending; whether this
    job stored it (False: it was stored already). A failure is logged, the document stays
    pending and `workflow_timers` enqueues it again (documents.services)."""
    from .services import document_file_render, logger

    try:
        return document_file_render(document_id=document_id)
    except Exception:
        logger.exception("The PDF of document %s could not be rendered", document_id)
        raise
