"""The morning report of a recorded run.

    build    the report's figures, read from the history with sql/report/ (a frozen Report)
    render   that Report as text, Markdown, HTML or JSON
"""
