"""Run the command line as `python -m reportgen`."""

from reportgen.cli import main

main()
