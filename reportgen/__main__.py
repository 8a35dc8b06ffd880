"""Run the command line as `python -m reportgen`."""

from .cli import main

main()
