"""Local development: the SAM template read as data, the embedded emulator, the local HTTP server.

Never deployed. It runs the real Lambda handlers, routed exactly as ``infra/template.yaml`` routes
them, against moto's AWS emulator (or DynamoDB Local for DynamoDB when asked).
"""
