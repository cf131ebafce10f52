"""The bottom layer: errors, paths, option parsing, devices, latent priors, pictures and run metadata.

Nothing here imports torch at import time, and nothing here imports any other gantool layer."""
