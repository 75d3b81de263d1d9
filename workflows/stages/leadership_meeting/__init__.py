"""审议 (局务会, leadership meeting): leadership approves or rejects the applications waiting for
it, one by one or as a list."""
