"""Modal dialogs: they render a core plan and return a typed result; they never compute one."""
