"""The HTTP edge shared by every API function: schemas, identity, problem+json, the resolver.

This is an adapter: the domain never imports it.
"""
