"""Real MediaPipe Holistic on the real signing videos, the video reader and the CLI's one-line errors."""

import subprocess
import sys

import numpy as np
import pytest

from asl_gpt.recognition import features
from asl_gpt.errors import InputError
from asl_gpt.landmarks import layout

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def extracted(signing_videos):
    from asl_gpt.landmarks.holistic import extract_video

    return {name: extract_video(path) for name, path in signing_videos.items() if name in ("FOOTBALL", "SOUP")}


@pytest.mark.parametrize("name", ["FOOTBALL", "SOUP"])
def test_hands_found_in_most_frames(extracted, name):
    frames, times = extracted[name]
    assert frames.dtype == np.float32 and frames.shape[1:] == (543, 3)
    assert features.hands_present(frames).mean() > 0.8
    assert np.all(np.diff(times) > 0)


@pytest.mark.parametrize("name", ["FOOTBALL", "SOUP"])
def test_nan_semantics_whole_parts(extracted, name):
    frames, _ = extracted[name]
    for part in (layout.FACE, layout.LEFT_HAND, layout.POSE, layout.RIGHT_HAND):
        block = frames[:, part]
        per_frame = np.isnan(block).reshape(len(frames), -1)
        # a part is either fully detected or fully NaN in each frame, never half-filled
        assert np.all(per_frame.all(axis=1) | ~per_frame.any(axis=1))
    assert np.isfinite(frames[:, layout.POSE]).all()  # the upper body is in view in every frame
    hands_face = np.concatenate([frames[:, layout.FACE], frames[:, layout.LEFT_HAND], frames[:, layout.RIGHT_HAND]], 1)
    xy = hands_face[..., :2][np.isfinite(hands_face[..., 0])]
    assert np.all((xy > -0.2) & (xy < 1.2))  # normalised image coordinates (pose legs may lie outside)


def test_without_face_mesh_hands_and_pose_are_the_same(signing_videos):
    """The live paths skip the face branch when the model does not read it: nothing else may change."""
    from asl_gpt.landmarks.holistic import HolisticExtractor, needs_face
    from asl_gpt.landmarks.video import read_video

    frames = [f.rgb for f in read_video(signing_videos["SOUP"], max_side=640)]
    out = {}
    for face in (True, False):
        with HolisticExtractor(face=face) as ex:
            out[face] = np.stack([ex(f) for f in frames])
    assert np.isnan(out[False][:, layout.FACE]).all() and np.isfinite(out[True][:, layout.FACE]).mean() > 0.8
    for part in (layout.LEFT_HAND, layout.POSE, layout.RIGHT_HAND):
        np.testing.assert_array_equal(out[True][:, part], out[False][:, part])
    assert needs_face(["x_face_0", "x_pose_11"]) and not needs_face(["x_left_hand_0", "y_pose_11"])


def test_no_person_gives_all_nan():
    from asl_gpt.landmarks.holistic import HolisticExtractor

    with HolisticExtractor() as ex:
        out = ex(np.full((480, 640, 3), 30, np.uint8))
    assert out.shape == (543, 3) and np.isnan(out).all()


def test_model_loading_warnings_are_silenced_and_the_rest_of_stderr_kept():
    """MediaPipe's graph writes six 'Feedback manager' warnings (and TensorFlow Lite notices) per camera session
    while its models load: nothing a user can act on. Whatever else goes to stderr meanwhile still appears."""
    code = ("import os, threading, numpy as np\n"
            "from asl_gpt.landmarks.holistic import HolisticExtractor\n"
            "os.write(2, b'before\\n')\n"
            "go = threading.Event()\n"
            "def other():\n"
            "    go.wait(); os.write(2, b'meanwhile\\n')\n"
            "threading.Thread(target=other).start()\n"
            "ex = HolisticExtractor(face=False)\n"
            "go.set()\n"
            "for _ in range(2): ex(np.zeros((120, 160, 3), np.uint8))\n"
            "os.write(2, b'after\\n')\n")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300).stderr
    assert "Feedback manager" not in err and "XNNPACK" not in err, err
    assert "before" in err and "meanwhile" in err and "after" in err, err


def test_video_reader_errors(tmp_path):
    from asl_gpt.landmarks.video import read_video

    with pytest.raises(InputError, match="not found"):
        list(read_video(tmp_path / "none.mp4"))
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(InputError, match="cannot read video"):
        list(read_video(tmp_path / "bad.mp4"))


def test_landmarks_cli_round_trip(signing_videos, tmp_path):
    out = tmp_path / "soup.parquet"
    p = subprocess.run([sys.executable, "-m", "asl_gpt.cli", "landmarks", str(signing_videos["SOUP"]), "-o", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    from asl_gpt.landmarks.io import read_parquet

    frames = read_parquet(out)
    assert frames.shape == (41, 543, 3) and features.hands_present(frames).mean() > 0.8


@pytest.mark.parametrize("args, message", [
    (["recognize", "/no/such/video.mp4"], "error: video not found"),
    (["landmarks", "/no/such/video.mp4", "-o", "x.parquet"], "error: video not found"),
    (["live", "--video", "/no/such/video.mp4", "--no-window"], "error: video not found"),
    (["recognize", "{garbage}"], "error: cannot read video"),
    (["recognize", "{video}", "--model", "/no/model"], "error: model file not found"),
    (["live", "--camera", "7", "--no-window"], "error: no camera at index 7"),
])
def test_cli_errors_are_one_line(args, message, tmp_path, signing_videos):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"garbage" * 100)
    args = [a.format(garbage=garbage, video=signing_videos["SOUP"]) for a in args]
    p = subprocess.run([sys.executable, "-m", "asl_gpt.cli", *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(message), p.stderr
    assert "Traceback" not in p.stderr
