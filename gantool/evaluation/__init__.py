"""Numbers and pictures about a generator: the digit classifier, sample sources, the metric runner, reports, plots.

Imports gantool.inference and below."""
