"""The first launch online: the active variant's missing ImageNet weights download on their own
(progress and Cancel in the banner) and images dropped meanwhile wait for them. The weights
come from an HTTP server on 127.0.0.1, as in tests/model/test_weights.py; nothing leaves the machine."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading

import pytest

from app.pages.classify.results_model import RowState
from tests.model.test_weights import _QuietHandler


@pytest.fixture
def weights_server(tmp_path, monkeypatch):
    """Serves random-but-valid EfficientNet-B0 weights on loopback; torchvision's address points there.
    Yields the server's (host, port) and a gate the handler waits on before sending the file."""
    import torch
    import torchvision

    import model.nets.weights as W

    buffer = io.BytesIO()
    torch.save(torchvision.models.efficientnet_b0().state_dict(), buffer)
    payload = buffer.getvalue()
    folder = tmp_path / "served"
    folder.mkdir()
    name = f"efficientnet_b0_test-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    (folder / name).write_bytes(payload)
    gate = threading.Event()

    class GatedHandler(_QuietHandler):
        """Sends the first chunk at once and the rest when the gate opens: a download under way."""

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[:W.CHUNK_BYTES])
            self.wfile.flush()
            gate.wait(30)
            try:
                self.wfile.write(payload[W.CHUNK_BYTES:])
            except OSError:
                pass  # the app cancelled and hung up

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GatedHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    monkeypatch.setattr(W, "imagenet_url", lambda variant: f"http://{host}:{port}/{name}")
    yield (host, port), gate
    gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def classified_with(monkeypatch):
    """The weights (classifier.source) of every classification the Classify page starts."""
    import app.pages.classify.page as classify_page

    sources: list[str] = []
    original = classify_page.ClassifyWorker

    class Spy(original):
        def __init__(self, predictor, *args, **kwargs):
            sources.append(predictor.classifier.source)
            super().__init__(predictor, *args, **kwargs)

    monkeypatch.setattr(classify_page, "ClassifyWorker", Spy)
    return sources


def launch(window, weights_server):
    """Start the window as app.main() does, its online check and downloads aimed at the loopback server."""
    address, gate = weights_server
    window.session.weights_host = address
    window.show()
    window.start()
    return gate


@pytest.mark.slow
def test_first_launch_online_downloads_the_weights_and_dropped_images_wait(
    qtbot, window, weights_server, classified_with, image_factory
):
    gate = launch(window, weights_server)
    page = window.page("classify")
    image_factory("drop/a.png", size=(40, 32))
    image_factory("drop/b.png", size=(40, 32), color=(10, 200, 30))
    # The random stand-in is ready and the download has begun (held at the server's gate).
    qtbot.waitUntil(lambda: page.first_download.running, timeout=60_000)
    assert window.session.active.imagenet_missing and page.banner.job.isVisibleTo(page)
    assert "Downloading the ImageNet weights for EfficientNet-B0" in page.banner.text.text()
    assert page.banner.job.cancel_button.isEnabled()
    # Progress in the banner: "0 B of 20.5 MB" and on from there.
    qtbot.waitUntil(lambda: page.banner.job.bar.maximum() == 1000 and " of " in page.banner.job.bar.format(),
                    timeout=30_000)
    folder = image_factory("drop/c.png").parent
    page.classify_paths([str(folder)])  # dropped while the weights download: they wait
    qtbot.wait(200)
    assert page.results.rowCount() == 0 and classified_with == []
    assert "Waiting for the ImageNet weights" in page.message.text()

    gate.set()
    qtbot.waitUntil(lambda: page.results.rowCount() == 3 and page.is_settled() and window.session.loading is None,
                    timeout=120_000)
    qtbot.waitUntil(lambda: all(r.state is RowState.DONE for r in page.results.rows()), timeout=60_000)
    assert classified_with == ["ImageNet weights"]  # never with the random stand-in
    assert not window.session.active.imagenet_missing and window.session.weights_cached("b0")
    assert "random weights" not in page.banner.text.text() and not page.banner.job.isVisibleTo(page)


@pytest.mark.slow
def test_cancelling_the_first_download_classifies_with_random_weights_and_says_so(
    qtbot, window, weights_server, classified_with, image_factory
):
    gate = launch(window, weights_server)
    page = window.page("classify")
    qtbot.waitUntil(lambda: page.first_download.running, timeout=60_000)
    page.classify_paths([str(image_factory("drop/a.png"))])
    qtbot.wait(100)
    assert classified_with == []
    page.banner.job.cancel()
    gate.set()  # the next chunk arrives and the download sees the cancel
    qtbot.waitUntil(lambda: page.is_settled() and page.results.rowCount() == 1
                    and page.results.rows()[0].state is RowState.DONE, timeout=60_000)
    assert classified_with == ["random weights"]  # the user chose them by cancelling
    assert "random weights" in page.banner.text.text() and page.banner.download_button.isVisibleTo(page)
    assert not window.session.weights_cached("b0")


def test_offline_the_first_launch_downloads_nothing(qtbot, window):
    from tests.app.conftest import FakePredictor, fake_active_model

    page = window.page("classify")
    window.session._on_probed(False)
    window.session.use_predictor(FakePredictor(), fake_active_model(missing=True))
    assert not page.first_download.running and not page.banner.job.isVisibleTo(page)
    assert "no internet connection" in page.banner.text.text()
