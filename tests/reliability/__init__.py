"""Reliability and security suite (issue 6): faults, hostile inputs, bad params, untrusted models.

This folder is a package so that pytest's default ``prepend`` import mode puts
``tests/`` (its first parent without ``__init__.py``) on ``sys.path``: the
shared builders in ``tests/helpers.py`` and ``tests/tiny_generators.py`` then
import the same way as from the top-level tests, whether this folder runs
alone or with the whole suite. The docs/reliability.md table lists each case.
"""
