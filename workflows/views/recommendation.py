"""Pages of the recommendation stage (issue 3, being written)."""

urlpatterns: list = []
