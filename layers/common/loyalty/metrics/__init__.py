"""Metrics: the merchant dashboard's figures (``GET /v1/metrics``), kept off the write path.

- ``domain``: the definitions, what each event adds to a day, and a period's figures from its days;
- ``usecases``: ``Aggregator`` (the streams' consumer: counts each event exactly once) and ``MetricsService``
  (a period's figures);
- ``store`` / ``dynamodb``: the port both use and its adapter (the Metrics table, and the stream records);
- ``http``: the response model. docs/metrics.md has the design, the definitions and what a read costs.
"""
