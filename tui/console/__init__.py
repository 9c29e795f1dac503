"""The Textual console: the app, its screens, modals and widgets, and theming."""
