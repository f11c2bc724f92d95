"""Export INT8… in the app: the accuracy before and after is shown, and only Keep writes the file."""

import pytest

from app.pages.train.int8_export import openvino_installed
from tests.bundles import make_colour_bundle

pytestmark = pytest.mark.skipif(not openvino_installed(), reason="needs openvino and nncf")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_colour_bundle(tmp_path_factory.mktemp("int8-app"))


def _export(qtbot, window, bundle_path, out, answer, folder=""):
    runs = window.page("train").runs
    shown, asked = [], []
    runs.int8.ask_keep = lambda parent, staged: shown.append(staged) or answer
    runs.int8.ask_folder = lambda message: asked.append(message) or folder
    messages = []
    runs.int8.done.connect(messages.append)
    runs.int8.failed.connect(messages.append)
    runs.int8.run(str(bundle_path), str(out))
    assert runs.job.isVisibleTo(runs) or runs.job.busy
    qtbot.waitUntil(lambda: bool(messages) and not runs.job.busy, timeout=240_000)
    return shown, asked, messages


def test_discard_writes_nothing(qtbot, window, bundle, tmp_path):
    out = tmp_path / "exports" / "int8.xml"
    shown, _, messages = _export(qtbot, window, bundle[0], out, answer=False)
    assert shown and list(out.parent.iterdir()) == []  # neither the file nor its staging folder
    assert "Discarded" in messages[-1]


def test_a_moved_training_folder_is_asked_for_once_then_keep_writes_the_file(qtbot, window, bundle, tmp_path):
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(bundle[1], moved)
    from model.nets.bundle import load_bundle, save_bundle

    b = load_bundle(bundle[0])
    b.config["data_dir"] = str(tmp_path / "gone")
    save_bundle(b, tmp_path / "model.pt")
    out = tmp_path / "out" / "q.xml"
    shown, asked, messages = _export(qtbot, window, tmp_path / "model.pt", out, answer=True, folder=str(moved))
    assert len(asked) == 1 and "cannot be found" in asked[0]
    [staged] = shown  # both accuracies were there to show before the file was kept
    assert 0 <= staged.accuracy_fp32 <= 1 and 0 <= staged.accuracy_int8 <= 1 and staged.validation_images == 4
    assert out.is_file() and out.with_suffix(".bin").is_file()
    assert messages[-1].startswith("Exported INT8") and "before" in messages[-1]
