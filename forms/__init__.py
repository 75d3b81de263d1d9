"""Input forms and their validation. The application form is built from the program file's field
and attachment lists; every message is in the user's language (Chinese by default)."""
