"""The simulated AWS account: the embedded default for demos, training and behaviour tests.

It implements the same ports as the AWS adapter (:mod:`capcon.core.ports`), with the
behaviour moto and DynamoDB Local do not model: throttling, burst, partitions, quotas,
``UPDATING`` delays, late metrics and auto scaling, every request checked by the same rule
book as the planner.
"""
