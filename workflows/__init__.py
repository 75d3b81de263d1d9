"""The engine: program files, flows built from them, stage types, models, services, selectors and
permissions for every subsidy and designation program."""
