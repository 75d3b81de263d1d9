"""The application stage takes no parameters and must come first."""

PARAMS: dict = {}
REQUIRES: tuple = ()
