"""The HTTP edge every API function shares: the router (with who may call each route), the resolver and its
Lambda entry, problem+json, and the pydantic types every feature's models use.

The domain never imports it.
"""
