"""Template loader for the stage packages' own templates (`stages/<type>/templates/`)."""

from pathlib import Path

from django.template.loaders.filesystem import Loader as FilesystemLoader

from . import STAGE_TYPES

HERE = Path(__file__).resolve().parent


class Loader(FilesystemLoader):
    def get_dirs(self):
        return [HERE / stage_type / "templates" for stage_type in STAGE_TYPES]
