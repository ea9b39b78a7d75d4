"""Exceptions nbexplain raises, so callers can tell bad input from a failing model."""

from __future__ import annotations


class NbexplainError(Exception):
    """Base class of every error nbexplain raises on purpose."""


class InputError(NbexplainError, ValueError):
    """An argument has the wrong shape, dtype, range or value; the message names the argument."""


class ModelError(NbexplainError, RuntimeError):
    """The user's model raised, or returned something that is not a (N, n_outputs) array of finite numbers."""


class NotDifferentiableError(NbexplainError, TypeError):
    """A gradient method was asked of a model nbexplain cannot differentiate (not a torch module)."""


class Cancelled(NbexplainError):
    """A computation was abandoned because a newer request superseded it."""


class UnknownArgumentError(InputError, TypeError):
    """A keyword argument or option name that the function does not take (often a typo): never ignored."""
