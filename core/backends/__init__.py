"""Backends: the two implementations of the ports, AWS (boto3) and the simulated account."""
