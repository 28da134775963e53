"""Synthetic drops, for tests and benchmarks, and checking a run against them.

    generator   labelled drops of any size with chosen failure modes
    reference   the pure-Python reference implementation that labels them
    verify      a run's findings against a drop's labels

The nightly path (reconcile.nightly) never imports this package.
"""
