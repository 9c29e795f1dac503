"""Full screens of the console (detail, audit log, help)."""
