"""`python -m cli` runs the `stembus` command line."""

from cli.main import app

app()
