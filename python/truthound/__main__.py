"""``python -m truthound`` is the ``th`` command."""

from truthound._th import main

if __name__ == "__main__":
    main()
