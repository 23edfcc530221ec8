"""Order routing: decide per order where each line ships from, reserve there, explain why.

The router is a pure function over values (:mod:`omnibridge.routing.model`); the service runs it inside the
unit of work that reserves its decision and records it.
"""
