"""``python -m truthound`` is the ``th`` command."""

from truthound.cli import main

if __name__ == "__main__":
    main()
