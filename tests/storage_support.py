"""A file storage whose disk is full for some names: what a deployment's storage does when a
volume fills up or an object store refuses a write, for the tests that a refused write keeps
what the user typed."""

import errno

from django.core.files.storage import FileSystemStorage

FULL_FOR = "disk-full"


class DiskFullStorage(FileSystemStorage):
    """The file system storage, refusing (ENOSPC) every file whose name holds `FULL_FOR`."""

    def _save(self, name, content):
        if FULL_FOR in name:
            raise OSError(errno.ENOSPC, "No space left on device", name)
        return super()._save(name, content)
