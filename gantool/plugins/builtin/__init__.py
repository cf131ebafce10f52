"""gantool's own components: plain plugin modules, registered through the same hooks as any installed plugin."""
