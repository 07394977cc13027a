"""loyalty-ledger: the service's code, shipped to Lambda as the common layer (``/opt/python``).

Laid out by feature, each a folder with its ``domain`` (pure rules, no I/O), ``usecases`` (read → decide →
commit one write), ``store`` (the port the feature owns, a Protocol) and ``dynamodb`` (its adapter, the
feature's only boto3 code), and ``http`` (its pydantic request and response models):

- ``ledger``: assets, entries, hash chains, posting, verification: the system of record;
- ``members``: sign-up, the referral tree, contact preferences;
- ``program``: versioned programme rules;
- ``purchases``: purchases credited up the tree, refunds reversed pro rata;
- ``redemptions``, ``adjustments``: spending points, and corrections by an admin;
- ``outreach``: reminders and emails: planning, sending, content, administration.

Beside them, the shared kernel (``shared``: clock, errors, exactly-once, the DynamoDB codec, settings,
observability), the HTTP kernel (``http``: the router with who may call each route, problem+json,
the types every model uses), and the composition root (``wiring``), the one place that builds AWS clients.

Dependencies point inward: handlers (``functions/``) → ``http`` models and ``wiring`` → use cases → domain;
adapters implement the ports their feature owns. A feature's domain may use another feature's domain
(purchases credit ledger assets by programme rules up the members' tree), never its use cases or adapters.
"""
