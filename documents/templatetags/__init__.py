"""Template filters of the documents app (`{% load documents_tags %}`)."""
