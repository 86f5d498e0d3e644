"""``python -m orca`` runs the CLI (how a Recorder starts a collector without a PATH)."""

from orca.cli import main

main()
