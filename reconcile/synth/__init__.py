"""Synthetic drops, for tests and benchmarks, and checking a run against them.

    generator   labelled drops of any size with chosen failure modes
    reference   the pure-Python reference implementation that labels them
    verify      a run's findings against a drop's labels
    options     the generate and verify commands' choices and defaults (imports nothing,
                so the CLI declares its options without loading the modules above)

The nightly path (reconcile.nightly) never imports this package.
"""
