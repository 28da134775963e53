"""The `reconcile` command line: options in, one library call, output and an exit code out.

    main      the command group: run, generate, verify (and the groups below)
    common    the error handler every command shares (errors to exit codes)
    query, report, history   their commands
    console   everything printed to a terminal

Nothing outside this package imports it.
"""
