"""Background jobs of the documents layer (Django's Tasks API): the runners of a batch."""

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
