"""Pages of the expert_review stage (issue 3, being written)."""

urlpatterns: list = []
