"""Services: orchestration through the ports (metrics, feed, inspection, scaler, engine, audit).

They know the ports, never a backend's class.
"""
