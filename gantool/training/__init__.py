"""Training a GAN: options, pre-flight checks, set-up, batches, the loop, logging, periodic work, distributed runs.

Imports gantool.evaluation and below."""
