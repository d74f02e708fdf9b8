"""The binding's locks and the GIL: Python threads reading a profile while it consumes a stream.

Each scenario runs in a subprocess with a timeout, so a deadlock fails the test instead of
hanging the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

# A pyarrow reader built on a Python generator: its get_next takes the GIL back from the engine
# thread that consumes it. The generator also reads the profile's fields itself, between batches.
_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    import pyarrow as pa
    from truthound import _core

    BATCHES, ROWS = 40, 1000
    schema = pa.schema([("x", pa.int64())])
    profile = _core.PartialProfile()
    seen_in_generator = []

    def batches():
        for i in range(BATCHES):
            seen_in_generator.append(profile.row_count)
            profile.column_names
            profile.sources
            time.sleep(0.002)
            yield pa.record_batch([pa.array(range(i * ROWS, (i + 1) * ROWS))], schema=schema)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    errors = []

    def consume():
        try:
            profile.consume(reader)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=consume)
    worker.start()
    seen_outside = []
    while worker.is_alive():
        seen_outside.append(profile.row_count)
        profile.column_names
        profile.sources
        profile.add_source("main thread")
    worker.join()
    assert not errors, errors
    assert profile.row_count == BATCHES * ROWS, profile.row_count
    # The generator runs between batches: it sees every earlier batch consumed, none later.
    assert seen_in_generator == [i * ROWS for i in range(BATCHES)], seen_in_generator
    assert seen_outside == sorted(seen_outside), "row_count went backwards"
    assert all(n % ROWS == 0 for n in seen_outside), "row_count is whole batches"
    assert len(seen_outside) > 1
    print("ok", len(seen_outside), len(set(seen_outside)))
    """
)


def test_fields_read_from_other_threads_while_a_generator_stream_is_consumed() -> None:
    # Before the fix: the consuming thread held the profile's mutex while the generator waited
    # for the GIL, and the main thread held the GIL while waiting for the mutex.
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("ok "), result.stdout
