"""The plugin contract (hookspecs), the registry that finds plugins, the checks that hold them to it, the
scaffold for new ones, and gantool's own components in ``builtin/``, registered exactly like a third party's.

Imports only gantool.core."""
