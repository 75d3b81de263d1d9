"""Project configuration: settings, URLs and the program files under `config/programs/`."""
