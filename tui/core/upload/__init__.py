"""Uploading files as batch posts: nothing the user gave is lost, nothing is sent twice.

The modules, in the order an upload uses them:

* :mod:`~tui.core.upload.plan`: which files go and why others do not (``UploadPlan``).
* :mod:`~tui.core.upload.body`: batches cut to a byte budget, each body built from disk
  one file at a time.
* :mod:`~tui.core.upload.uploader`: ``Uploader``, which posts the batches one at a time
  (413 splits a batch, 429 waits, an unknown outcome is never re-sent).
* :mod:`~tui.core.upload.run`: one run's bookkeeping (each file's result, progress).
* :mod:`~tui.core.upload.records`: accepted IDs into the watchlist and every batch into
  the audit log, before the next batch goes.
* :mod:`~tui.core.upload.outcome`: each file's fate and the report ``--retry`` takes back;
  :mod:`~tui.core.upload.retry`: what each retry sent, so none is sent twice.

Nothing is re-exported here: import from the module.
"""
