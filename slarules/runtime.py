"""The server's runtime: the live ruleset (swapped whole on reload), the store, alert fan-out."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.concurrency import run_in_threadpool

from slarules.alerts import codec as alert_codec
from slarules.broadcast import Broadcaster
from slarules.budget import Budget
from slarules.clock import Clock
from slarules.dsl.source import BuildResult, SourceFile
from slarules.engine.alerts import Alert
from slarules.engine.cancel import NEVER, Cancel, Cancelled
from slarules.engine.policy import Policy
from slarules.errors import Diagnostic, RulesError
from slarules.logs import json_line
from slarules.metrics import Metrics
from slarules.service import TicketService
from slarules.service.remeasure import previous_policies, remeasure_all
from slarules.settings import Settings
from slarules.store import Store
from slarules.store.alerts import RELOAD_CHANNEL

if TYPE_CHECKING:
    from slarules.alerts.listener import AlertListener
    from slarules.alerts.scheduler import Scheduler

log = logging.getLogger("slarules.app")
REMEASURE_BATCH = 200


@dataclass(frozen=True, slots=True)
class LiveRuleset:
    """The ruleset answering requests; swapped as a whole (never half-loaded)."""

    policy: Policy
    loaded_at: datetime
    sources: dict[str, str]
    diagnostics: tuple[Diagnostic, ...] = ()


def relative_sources(path: Path | str) -> list[SourceFile]:
    """The ruleset's files named relative to the ruleset root (no server path is shown:
    not in `ruleset { files }`, the stored sources, nor diagnostics)."""
    from slarules.rulesets import read_sources

    root = Path(path)
    base = root if root.is_dir() else root.parent
    out = []
    for s in read_sources(path):
        p = Path(s.name)
        try:
            name = p.relative_to(base).as_posix()
        except ValueError:
            name = p.name
        out.append(SourceFile(name, s.data))
    return out


def build_failure(e: BaseException, where: str | None = None) -> Diagnostic:
    """A compiler crash (recursion, memory, a generated-code limit) as one diagnostic."""
    kind = type(e).__name__
    return Diagnostic(
        "error",
        "build-failed",
        f"the rules cannot be built ({kind}); the ruleset in use stays live",
        where,
        hint="simplify the rule that nests deepest or the longest expression",
    )


def build_ruleset(
    path: Path | str, loaded_at: datetime, cancel: Cancel = NEVER
) -> tuple[LiveRuleset | None, BuildResult]:
    """Read and build the rule files; None (and the diagnostics) when they have errors.

    A compiler crash (RecursionError, MemoryError, SyntaxError of the generated code...)
    is a build failure with a `build-failed` diagnostic, never an exception. `Cancelled`
    (from `cancel`) comes out unchanged."""
    from slarules.dsl import build

    sources = relative_sources(path)
    try:
        result = build(sources, cancel)
    except (RulesError, OSError, Cancelled):
        raise
    except Exception as e:  # RecursionError, MemoryError, SyntaxError too
        log.warning(json_line(event="ruleset.build_crashed", error=type(e).__name__))
        return None, BuildResult(None, (build_failure(e, str(Path(path).name)),))
    if result.policy is None:
        return None, result
    texts = {s.name: s.data.decode("utf-8", "replace") for s in sources}
    return LiveRuleset(result.policy, loaded_at, texts, result.diagnostics), result


class BuildSource(Protocol):
    """Builds one rules string (`checkRules`, `explain(rules:)`); polls `cancel`."""

    def __call__(self, text: str, name: str, cancel: Cancel = ...) -> BuildResult: ...


def _build_source(text: str, name: str, cancel: Cancel = NEVER) -> BuildResult:
    from slarules.dsl import build_source

    try:
        return build_source(text, name, cancel)
    except (RulesError, Cancelled):
        raise
    except Exception as e:  # RecursionError, MemoryError, SyntaxError too
        return BuildResult(None, (build_failure(e, name),))


class Runtime:
    """Everything a request needs: settings, clock, store, live ruleset, alert fan-out."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        ruleset: LiveRuleset,
        store: Store | None = None,
        build_source: BuildSource | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.ruleset = ruleset
        self.store: Store | None = None
        self.service: TicketService | None = None
        if store is not None:
            self.use_store(store)
        self.build_source: BuildSource = build_source or _build_source
        self.broadcaster = Broadcaster()
        self.metrics = Metrics()
        self.metrics.set_ruleset(ruleset.policy.version)
        self.remeasuring = 0  # tickets still to re-measure after a reload
        self.scheduler: Scheduler | None = None
        self.listener: AlertListener | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._reload_lock = threading.Lock()
        self._remeasure_task: Any = None  # the background re-measure after a reload
        self.instance = uuid.uuid4().hex[:12]  # tells this process's notifications apart
        self.budget = Budget(settings.expensive_threads, settings.operation_timeout)

    def require_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the store is not open (run the app inside its lifespan)")
        return self.store

    def require_service(self) -> TicketService:
        if self.service is None:
            raise RuntimeError("the store is not open (run the app inside its lifespan)")
        return self.service

    def use_store(self, store: Store) -> None:
        self.store = store
        self.service = TicketService(
            store, max_age=self.settings.alert_max_age, skew=self.settings.max_clock_skew
        )

    def open_store(self) -> Store:
        self.use_store(Store.open(self.settings.database))
        assert self.store is not None
        return self.store

    # -- alerts ------------------------------------------------------------------------

    def attach_alerts(self) -> None:
        """Hook the store's outbox to subscriptions, metrics and the scheduler (lifespan)."""
        store = self.require_store()
        service = self.require_service()
        store.alerts.webhook = bool(self.settings.webhook_url)
        service.hooks.alerts = self._raised
        service.hooks.change = self.wake_scheduler
        service.hooks.failed = self._unmeasurable
        self.metrics.watch_cycles(lambda: service.cycle_states(self.clock.now()))

    def wake_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()

    def _raised(self, alerts: Sequence[Alert]) -> None:
        """Alerts committed by this process (any thread): count; publish unless PG fans out."""
        self.metrics.alerts_due.inc(len(alerts))
        if self.listener is None:
            for a in alerts:
                self.publish(a)

    def _unmeasurable(self, ticket_id: str, error: Exception) -> None:
        self.metrics.tickets_unmeasurable.inc()

    def publish(self, alert: Alert) -> None:
        """Hand an alert to this process's subscribers; thread-safe."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.broadcaster.publish, alert)

    def heard_alert(self, alert_id: str) -> None:
        """A listener heard an alert's id (any process raised it): read it and publish it."""
        payload = self.require_store().alerts.payloads([alert_id]).get(alert_id)
        if payload is not None:
            self.publish(alert_codec.decode(payload))

    def record_live_ruleset(self) -> None:
        live = self.ruleset
        self.require_store().save_ruleset(live.policy, live.sources, live.loaded_at)

    def reload(
        self, fan_out: bool = True, cancel: Cancel = NEVER
    ) -> tuple[bool, Sequence[Diagnostic]]:
        """Load the rule files again; keep the old ruleset when the new one has errors.

        The process that reloads re-measures the open tickets and, on PostgreSQL,
        tells the other server processes to load the files too (`fan_out`). When
        `cancel` stops (the caller's time budget ran out or it left) the build stops at
        its next poll, `Cancelled` comes out (the budget answers it as a timeout) and
        nothing is swapped.
        """
        with self._reload_lock:
            cancel.check()  # it may have waited for the lock past its budget
            try:
                live, result = build_ruleset(self.settings.rules, self.clock.now(), cancel)
            except RulesError as e:
                return False, e.diagnostics
            except OSError as e:  # a file vanished or cannot be read mid-deploy
                where = str(getattr(e, "filename", None) or self.settings.rules)
                reason = e.strerror or str(e)
                return False, [Diagnostic("error", "io", f"cannot read `{where}`: {reason}", where)]
            if live is None:
                return False, result.diagnostics
            cancel.check()  # the caller gave up while it built: swap nothing
            if live.policy.version != self.ruleset.policy.version:
                old = self.ruleset.policy
                if self.store is not None:
                    self.store.save_ruleset(live.policy, live.sources, live.loaded_at)
                self.ruleset = live  # one reference swap: requests see old or new, never half
                self.metrics.set_ruleset(live.policy.version)
                log.info(json_line(event="ruleset.reload", version=live.policy.version))
                if fan_out:
                    self._start_remeasure(live.policy, old)
                    if self.store is not None:
                        payload = json_line(version=live.policy.version, origin=self.instance)
                        self.store.notify(RELOAD_CHANNEL, payload)
            elif fan_out:
                self._catch_up_after_reload(live.policy)
            return True, result.diagnostics

    def reloaded_elsewhere(self, text: str) -> None:
        """Another process reloaded (listener thread): load the same files, no re-measure."""
        note = json.loads(text)
        if (
            note.get("origin") == self.instance
            or note.get("version") == self.ruleset.policy.version
        ):
            return
        ok, diags = self.reload(fan_out=False)
        if not ok or self.ruleset.policy.version != note.get("version"):
            first = diags[0].render().splitlines()[0] if diags else "the files differ"
            log.error(
                json_line(
                    event="ruleset.reload_mismatch",
                    wanted=note.get("version"),
                    live=self.ruleset.policy.version,
                    error=first,
                )
            )

    @property
    def ruleset_current(self) -> bool:
        """No background re-measure is running or pending (every open ticket had its turn)."""
        task = self._remeasure_task
        return self.remeasuring == 0 and (task is None or task.done())

    def start_catch_up(self) -> None:
        """Start-up (event loop): re-measure, in the background, the open tickets measured
        under another ruleset version (rules changed while the server was down, or a
        background re-measure was cut short by a crash). Start-up and reads do not wait.
        The versions they were left on are built again from the sources the store keeps,
        so the re-measure is incremental as after a reload (`service.restamp`)."""
        if self.store is None or self.loop is None:
            return
        policy = self.ruleset.policy

        async def go() -> None:
            store = self.require_store()
            ids = await run_in_threadpool(store.tickets.stale_open_ids, policy.version)
            previous: list[Policy] = []
            if ids:
                log.info(
                    json_line(event="ruleset.catch_up", version=policy.version, tickets=len(ids))
                )
                service = self.require_service()
                previous = await run_in_threadpool(
                    previous_policies, service.recorder, policy.version
                )
            await self._remeasure_all(policy, ids, previous)

        self._remeasure_task = self.loop.create_task(go())

    def _catch_up_after_reload(self, policy: Policy) -> None:
        """`reloadRules` of the same version (worker thread): re-measure stale tickets, if any
        and no re-measure runs already."""
        task = self._remeasure_task
        loop = self.loop
        if self.store is None or loop is None or loop.is_closed():
            return
        if task is not None and not task.done():
            return
        ids = self.store.tickets.stale_open_ids(policy.version)
        if not ids:
            return
        previous = previous_policies(self.require_service().recorder, policy.version)
        self.remeasuring = len(ids)
        self.metrics.remeasuring.set(self.remeasuring)
        coro = self._remeasure_all(policy, ids, previous)
        self._remeasure_task = asyncio.run_coroutine_threadsafe(coro, loop)

    def _start_remeasure(self, policy: Policy, previous: Policy | None = None) -> None:
        """Re-measure every ticket that is not done under `policy`, in the background;
        those measured under `previous` that the change cannot touch are restamped
        (`service.restamp`).

        Called from `reload` in a worker thread: the count is known (and shown as
        `ruleset.remeasuring`) before the reload answers.
        """
        loop = self.loop
        if loop is None or loop.is_closed() or self.store is None:
            return
        ids = self.require_service().open_ids()
        self.remeasuring = len(ids)
        self.metrics.remeasuring.set(self.remeasuring)
        coro = self._remeasure_all(policy, ids, previous)
        self._remeasure_task = asyncio.run_coroutine_threadsafe(coro, loop)

    async def _remeasure_all(
        self, policy: Policy, ids: Sequence[str], previous: Policy | Sequence[Policy] | None = None
    ) -> None:
        service = self.require_service()
        started = time.perf_counter()
        self.remeasuring = len(ids)
        self.metrics.remeasuring.set(self.remeasuring)
        try:

            def saved(n: int, left: int) -> None:
                self.metrics.tickets_remeasured.inc(n)
                self.remeasuring = left
                self.metrics.remeasuring.set(left)

            await remeasure_all(
                service.recorder,
                policy,
                ids,
                self.clock.now,
                batch=REMEASURE_BATCH,
                go_on=lambda: self.ruleset.policy is policy,  # else a newer reload took over
                done=saved,
                previous=previous,
            )
            if self.ruleset.policy is not policy:
                return  # a newer reload took over (it re-measures everything again)
        except Exception:
            log.exception("re-measure after reload failed")
        finally:
            if self.ruleset.policy is policy:
                self.remeasuring = 0
                self.metrics.remeasuring.set(0)
        if not ids:
            return  # nothing was stale: no log line
        log.info(
            json_line(
                event="ruleset.remeasured",
                version=policy.version,
                tickets=len(ids),
                seconds=round(time.perf_counter() - started, 3),
            )
        )
