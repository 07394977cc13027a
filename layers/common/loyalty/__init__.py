"""loyalty-ledger: the domain and its adapters (shipped to Lambda as the common layer).

Layout:
- domain modules (``clock``, ``errors``, ``program``, ``referrals``, ``ledger``, ``refunds``)
  are pure Python with no AWS or HTTP types;
- ``services`` holds the use cases, which receive their store and clock;
- ``adapters.dynamodb`` is the only module that talks to DynamoDB;
- ``http`` turns domain errors and claims into HTTP shapes for the Lambda handlers.
"""
