"""``train``: the one function behind ``gantool train``, ``gantool.train`` and every process of a distributed run."""

from gantool.training.loop import train

__all__ = ["train"]
