"""The shared kernel: what every feature uses and none owns.

- ``clock``: the one way in for time;
- ``errors``: the refusals every feature can answer (validation, auth, not found, replays, busy);
- ``canonical``: deterministic JSON, for hashes and request fingerprints;
- ``once``: exactly-once execution of a business event, and the bounded retry around it;
- ``money``: currencies' minor units and basis points;
- ``dynamo``: the DynamoDB codec and the one wrapper around the low-level client;
- ``settings``: configuration from the environment;
- ``observability``: the Powertools logger, tracer and metrics.

Nothing here imports a feature.
"""
