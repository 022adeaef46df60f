"""No camera: recognise an uploaded video with the same `recognize_video` as `asl-gpt recognize`, read with
the session's own recognizer (its calibration profile), as its camera frames are."""

from __future__ import annotations


def recognize_upload(services, path: str, min_confidence: float, progress=None,
                     recognizer=None) -> tuple[str, list[tuple[str, float]]]:
    """(message, utterances offered for sending with their confidence). `recognizer`: the live session's
    (None: it has no model, so the shared one, whose loading error is the answer). Raises AslGptError
    (unreadable video, no model); its message may name `path`, which the app shortens to the file's name."""
    from asl_gpt.landmarks.video import probe
    from asl_gpt.recognition.pipeline import buffer_options, recognize_video, stream_options

    info = probe(path)  # InputError for a file OpenCV cannot read, before the model loads
    rec = recognizer if recognizer is not None else services.recognizer()
    extractor = services.new_extractor()
    done = [0]

    def on_result(frame, result):
        done[0] += 1
        if progress is not None and done[0] % 5 == 0:
            progress((done[0], info.frames or None), desc="recognising", unit="frames")

    try:
        result = recognize_video(path, rec, extractor, stream_options(services.settings),
                                 buffer_options(services.settings, rec, min_confidence), on_result=on_result)
    finally:
        if hasattr(extractor, "close"):
            extractor.close()
    utterances = [(u.text, u.confidence) for u in result.utterances]
    head = f"{result.frames} frames, hands in {result.frames_with_hands}."
    if utterances:
        return f"{head} {len(utterances)} utterance(s): pick one and press **Use this utterance**.", utterances
    if result.frames_with_hands == 0:
        return f"{head} No hands in view: nothing to read.", []
    low = "; ".join(f"`{r.text}` ({r.confidence:.2f})" for r in result.rejected[:5])
    return (f"{head} Nothing reached the confidence threshold {min_confidence:.2f}"
            + (f"; rejected: {low}" if low else "") + "."), []
