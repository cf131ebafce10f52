"""Files on disk: a run folder's layout, safetensors written atomically, the checkpoint's keys, run folders and their lock.

Imports only gantool.core."""
