"""Planning: pure functions from facts and a requested change to a plan or a typed refusal.

No I/O and no clock: ``now`` is an argument.  Imports only the model, the rule book and prices.
"""
