"""申报 (application): the institution submits its application; submission starts the process.
Drafts, attachments and submission themselves are the engine's (`workflows.services`)."""
