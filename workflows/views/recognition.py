"""Pages of the recognition stage (issue 3, being written)."""

urlpatterns: list = []
