"""Pages of the committee stage (issue 3, being written)."""

urlpatterns: list = []
