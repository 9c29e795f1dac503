"""The AWS adapter: the ports of :mod:`capcon.core.ports` over boto3.

The only part of ``capcon.core`` that imports boto3; planning and the simulated account never
do (a test proves it).  Works against real AWS, LocalStack, or a moto server
(``--endpoint-url``).
"""
