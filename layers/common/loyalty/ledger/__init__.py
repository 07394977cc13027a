"""The ledger: the system of record every feature writes money-like state to.

- ``assets``: what each asset allows (buckets, holds, tallies), declared once;
- ``entries``: the immutable lines of a holder's hash chain;
- ``accounts``: the balances kept beside each chain, and how they read at an instant;
- ``posting``: ``post``, the pure function from an account and one event's postings to entries;
- ``verification``: ``verify``, which recomputes all of it from the entries, independently of ``post``;
- ``store`` / ``dynamodb``: the port the use cases commit through, and its adapter;
- ``usecases``: reading pages of a ledger and verifying a chain; ``http``: their models.
"""
