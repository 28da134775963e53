"""The morning report of a recorded run, and the complaints desk's tools.

    build       the report's figures, read from the history with sql/report/ (a frozen Report)
    vocabulary  every word the reports use, in zh-CN and en, defined once
    wording     how a figure, flag or row is said; outline: the sections as notes and tables
    render      the Report as text (text.py), Markdown (markdown.py), HTML (page.py, with
                charts.py drawing its trends) or JSON
    trace       one person's planned messages across the recorded nights
    complaints  a complaints file traced to those messages and classified
"""
