"""`python -m web` is the `casevault` command (the tests run the source tree this way)."""

from web.cli import main

main(prog_name="casevault")
