"""The nightly path: a drop in, a verdict for every message out.

    inputs    find each table's file, check its header, load it untouched
    staging   typed tables with strict parsers; unusable rows kept with their problem
    feeds     the night as a whole: volumes against the last night, money no loan can take
    (sql)     sql/nightly/truth -> sql/nightly/checks -> sql/nightly/findings.sql (verdicts)
    writer    findings, the send / hold / block / rejected split, summary.json
    out_dir   the output folder: locked, checked, replaced all-or-nothing
    policy    the stricter exit codes a scheduler may ask for
    engine    runs the steps in that order (`reconcile.run`)

It records into reconcile.history and never imports reconcile.synth or reconcile.cli.
"""
