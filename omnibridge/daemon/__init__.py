"""``omnibridge run``: the sync engine as a long-running service (see docs/operations.md).

* :mod:`~omnibridge.daemon.service` — the daemon: lifecycle, signals, uvicorn in the same event loop
  (entry point :func:`~omnibridge.daemon.service.run_daemon`);
* :mod:`~omnibridge.daemon.worker` — the single consumer: inbox passes and queued jobs, one at a time;
* :mod:`~omnibridge.daemon.schedule` — APScheduler ticks that only enqueue jobs;
* :mod:`~omnibridge.daemon.jobs` — what each job does against the engine;
* :mod:`~omnibridge.daemon.app` — the HTTP surface: webhooks, ``/healthz``, ``/readyz``, ``/metrics``;
* :mod:`~omnibridge.daemon.http_guard` — uvicorn's settings for the open internet: connection cap, request-head
  timeout, rate-limited logs of refused requests; :mod:`~omnibridge.daemon.operators` — who sees ``/readyz``'s
  reasons;
* :mod:`~omnibridge.daemon.metrics` / :mod:`~omnibridge.daemon.telemetry` — the metrics registry and the metrics.

Importing this package loads none of them.
"""
