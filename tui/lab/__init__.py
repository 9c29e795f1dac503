"""The trainer's lab: policies side by side on the simulated account."""
