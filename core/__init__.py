"""Shared value types, ports (Protocols) and the error tree of qadesk.

Everything here is plain data or a small interface; nothing imports a third-party service.
"""
