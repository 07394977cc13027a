"""``python -m bench``: what loyalty-ledger costs, measured. See docs/benchmarks.md and docs/hot-referrer.md.

Figures only: nothing here asserts a time. Sections: ``units`` (DynamoDB requests and capacity units per
operation, counted at the boto3 client), ``cost`` (per million purchases), ``coldstart`` (handler import
times), ``hotref`` (what one referrer's partitions can absorb).
"""
