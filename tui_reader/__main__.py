"""``python -m tui_reader`` and the ``tui-reader`` command."""

import gc


def run() -> None:
    # Start-up allocates many long-lived objects (imports, the catalogue, widgets) and the cyclic
    # collector has nothing to free then: it waits until the first frame is out (the app turns it
    # back on), which makes start-up ~10% faster.
    gc.disable()
    try:
        from tui_reader.cli import main

        main()
    finally:
        gc.enable()


if __name__ == "__main__":
    run()
