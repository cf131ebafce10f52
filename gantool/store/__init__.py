"""Files on disk: safetensors written atomically, the checkpoint's key layout, run folders and their lock.

Imports only gantool.core."""
