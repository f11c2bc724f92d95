"""Background work: QObject workers on QThreads, and the pool that owns them.

This is the only threading code of the app. A worker wraps one backend call or
generator, runs on its own QThread from the ``WorkerPool`` and talks to the UI
thread only through signals, named in the past tense:

``started``, ``progressed(Progress)``, ``failed(one sentence)``, ``aborted`` (it
ended because it was asked to stop), ``finished`` (always, last).
``GeneratorWorker`` adds ``yielded(event)`` and turns any backend generator into
these signals; pause and stop reach the backend through its control object.

What lives where:

* ``base``: ``Worker``, the base of every worker, and ``ProgressThrottle``;
* ``pool``: ``WorkerPool``, which starts workers and stops them all on exit;
* ``generator``: ``GeneratorWorker``, the generic worker over a backend generator;
* ``backend``: the session's loaders (``BackendLoader``, ``PredictorLoader``, ``OnlineProbe``);
* ``thumbnails``: ``ThumbnailWorker``, shared by the Classify and Train pages.

Workers that only one page uses live with that page (``app/pages/<page>/workers.py``).
Imports of torch and of the heavy backend modules happen inside ``work()``, in
the worker thread, so the window is on screen before torch loads.
"""

from app.workers.base import ProgressThrottle, Worker
from app.workers.generator import GeneratorWorker
from app.workers.pool import WorkerPool

__all__ = ["GeneratorWorker", "ProgressThrottle", "Worker", "WorkerPool"]
