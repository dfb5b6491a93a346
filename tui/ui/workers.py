"""Background work whose failure always reaches the app, from any screen or widget.

Textual tells only the node that started a worker that it failed
(``Worker.StateChanged`` does not bubble), and every worker here runs with
``exit_on_error=False`` so that one failure never ends the monitor. Each screen and
widget would then have to handle the failure itself, and one that forgot would fail
silently. So every worker is started through this module: :func:`work` (the decorator,
used like Textual's) or :func:`reported` (around what is given to ``run_worker``).
Either posts :class:`WorkerFailure` to the app when the work raises, and the app
reports it in its one handler (``ConversionsApp.on_worker_failure``): logged without
locals, told in a toast, never a crash. The error is raised again afterwards, so the
worker still ends in ``ERROR`` for a node that reacts to that (the monitor polls all
the same when loading the stored rows failed).

``tests/ui/test_worker_failures.py`` checks that no module starts a worker another way.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, ParamSpec, Protocol, TypeVar, cast, overload

import textual
from textual.message import Message
from textual.worker import NoActiveWorker, Worker, get_current_worker

__all__ = ["WorkDecorator", "WorkerFailure", "reported", "work"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class WorkerFailure(Message):
    """A worker of some screen, widget or the app raised ``error``: the app reports it."""

    def __init__(self, task: str, error: Exception) -> None:
        super().__init__()
        #: What the work was, in words a person can place ("export", "poller").
        self.task = task
        self.error = error


def _task_name(worker: Worker[Any]) -> str:
    # The group names what the work is for; @work's default name is a method's name.
    if worker.group and worker.group != "default":
        return worker.group
    return worker.name or "background task"


def _tell_the_app(error: Exception) -> None:
    """Post the failure to the app (thread-safe); log it here if the app has gone."""
    try:
        worker = get_current_worker()
    except NoActiveWorker:  # called outside a worker: nothing to name
        task, posted = "background task", False
    else:
        task = _task_name(worker)
        try:
            app = worker.node.app
        except RuntimeError:  # NoActiveAppError: a thread's node was removed, no app to tell
            posted = False
        else:
            posted = app.post_message(WorkerFailure(task, error))
    if not posted:
        log.error("worker %s failed with no app to tell: %s", task, type(error).__name__)


@overload
def reported(work: Awaitable[R]) -> Coroutine[None, None, R]:
    ...


@overload
def reported(work: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[None, None, R]]:
    ...


@overload
def reported(work: Callable[P, R]) -> Callable[P, R]:
    ...


def reported(work: Awaitable[Any] | Callable[P, Any]) -> Any:
    """``work`` (an awaitable, a function or an async function) that, if it raises,
    tells the app (:class:`WorkerFailure`) and raises again; for ``run_worker``:
    ``self.run_worker(reported(self.scheduler.run()), ...)``."""
    if inspect.isawaitable(work):
        return _reported_awaitable(work)
    if inspect.iscoroutinefunction(work):
        async_work = cast(Callable[P, Coroutine[Any, Any, Any]], work)

        @functools.wraps(work)
        async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await async_work(*args, **kwargs)
            except Exception as error:
                _tell_the_app(error)
                raise

        return run_async

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return work(*args, **kwargs)
        except Exception as error:
            _tell_the_app(error)
            raise

    return run


async def _reported_awaitable(work: Awaitable[R]) -> R:
    try:
        return await work
    except Exception as error:
        _tell_the_app(error)
        raise


class WorkDecorator(Protocol):
    """What :func:`work` returns: turns a method into one that starts a worker."""

    @overload
    def __call__(self, method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Worker[R]]:
        ...

    @overload
    def __call__(self, method: Callable[P, R]) -> Callable[P, Worker[R]]:
        ...


def work(*, group: str, name: str = "", exclusive: bool = False, thread: bool = False,
         description: str | None = None,
         exit_on_error: Literal[False] = False) -> WorkDecorator:
    """Textual's ``@work`` whose failures the app reports (see the module docstring).

    ``group`` is required: it names the work in the report. ``exit_on_error`` may only
    be False (it is accepted so a call reads like Textual's): a failure is reported,
    it never ends the app.
    """
    def decorate(method: Callable[..., Any]) -> Callable[..., Worker[Any]]:
        return textual.work(reported(method), name=name or method.__name__, group=group,
                            exclusive=exclusive, thread=thread, description=description,
                            exit_on_error=exit_on_error)

    return cast(WorkDecorator, decorate)
