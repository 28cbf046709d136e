"""plan.tarfiles: a tar read front to back through windows fetches each byte once (a member that crosses a window's
end keeps the window's tail and fetches only what follows), and the members come out as tarfile lists them."""

from __future__ import annotations

import io
import random
import tarfile

from hfconnect.plan.tarfiles import TarWindow, iter_members


def _tar(members: int) -> bytes:
    rng = random.Random(5)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i in range(members):
            data = rng.randbytes(rng.randrange(1_000, 30_000))
            info = tarfile.TarInfo(f"s{i:04d}.jpg")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_front_to_back_read_fetches_each_byte_once() -> None:
    data = _tar(200)
    fetched: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        fetched.append((start, end))
        return data[start:end]

    win = TarWindow(fetch, len(data), 64 * 1024, "x.tar")
    got = [(m.name, bytes(win.get(m.offset, m.size))) for m in iter_members(win)]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        want = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    assert got == want
    assert win.bytes_read <= len(data)  # nothing fetched twice
    assert all(b[0] == a[1] for a, b in zip(fetched, fetched[1:], strict=False))  # each starts where the last ended
