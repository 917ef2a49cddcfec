"""`python -m emulator` is `run-virt`."""

from emulator.cli import main

main()
